"""Benchmarks that print one JSON line each: measuring, over the package (`python -m regularity`).

python scripts/benchmark.py data --root ../shared/data         load Ped2, stream windows
python scripts/benchmark.py train --recipe ped2 --run-dir RUN  train and test a recipe
python scripts/benchmark.py train --run-dir RUN --evaluate-only --set score.aggregate=patch_max
python scripts/benchmark.py curve --run-dir RUN                frame AUC of every epoch
python scripts/benchmark.py scoring --run-dir RUN              every way of scoring a run
python scripts/benchmark.py baselines --dataset ped1           no-learning motion baselines
python scripts/benchmark.py cells --run-dir RUN                per-cell scoring, flow fusion
python scripts/benchmark.py prediction --family unet_predictor --recipe motion --run-dir RUN
python scripts/benchmark.py movement --recipe weizmann --run-dir RUN   each movement vs the rest
python scripts/benchmark.py backends --recipe ped2 --run-dir RUN   TensorFlow and JAX side by side
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from regularity import tensorflow_installed
from regularity.cli import setting, summary
from regularity.run.families import load_config
from regularity.run.pipeline import train_run
from regularity.run.recipes import SHARED_DATA
from regularity.score.scoring import FLOW_RULES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def bench_data(args: argparse.Namespace) -> dict:
    from functools import partial

    from regularity.data import load_dataset
    from regularity.data.clipstore import DiskClips, prepared_clips
    from regularity.data.preprocess import Normalizer, prepare_frames
    from regularity.data.sequence import WindowSequence
    from regularity.data.windows import window_batches
    from regularity.run.files import peak_rss_mb

    start = time.perf_counter()
    dataset = load_dataset(args.dataset, root=args.root)
    prepare = partial(prepare_frames, size=(args.size, args.size))
    if args.cache:
        # Clip by clip into a uint8 file: neither the dataset nor the prepared frames are ever
        # all in memory.
        summary = {"train_clips": len(dataset.train), "test_clips": len(dataset.test)}
        clips = DiskClips.write(args.cache, prepared_clips(dataset.train * args.repeat, prepare))
        summary.update(train_frames=sum(clips.lengths), test_frames=0)
    else:
        summary = dataset.summary()  # decodes every clip
    load_s, load_rss = time.perf_counter() - start, peak_rss_mb()
    start = time.perf_counter()
    if not args.cache:
        clips = [prepare(v.frames) for v in dataset.train] * args.repeat
        summary["train_frames"] = sum(len(c) for c in clips)
        for video in dataset.train + dataset.test:
            video.release()  # only the resized copies are needed from here on
    normalizer = Normalizer.fit(clips.clips() if args.cache else clips, args.scaling)
    prepare_s = time.perf_counter() - start
    batches = window_batches(clips, args.length, normalizer, batch_size=args.batch_size)
    # Both data paths over the same epoch: tf.data (TensorFlow's) and the PyDataset (JAX's).
    streams = {"numpy": lambda: (batches.batch(0, i) for i in range(len(batches)))}
    sequence = WindowSequence(batches)
    streams["pydataset"] = lambda: (sequence[i] for i in range(len(sequence)))
    if tensorflow_installed():
        streams["tf.data"] = lambda: iter(batches.tf_dataset())
    paths = {}
    for name, stream in streams.items():
        start = time.perf_counter()
        windows = sum(int(x.shape[0]) for x, _ in stream())
        seconds = time.perf_counter() - start
        paths[name] = {"epoch_seconds": round(seconds, 2),
                       "windows_per_second": round(windows / seconds)}  # fmt: skip
    frames = summary["train_frames"] + summary["test_frames"]
    return {
        "benchmark": "data", **summary, "load_seconds": round(load_s, 2),
        "load_frames_per_second": round(frames / load_s), "peak_rss_mb_after_load": round(load_rss),
        "prepare_seconds": round(prepare_s, 2), "frame_size": args.size,
        "window_length": args.length, "epoch_windows": windows, "data_paths": paths,
        "store": "disk" if args.cache else "memory", "peak_rss_mb": round(peak_rss_mb()),
    }  # fmt: skip


def bench_train(args: argparse.Namespace) -> dict:
    """Train a recipe (or rescore a trained run another way), test it, print its figures."""
    from regularity.run.evaluation import evaluate_run, rescore_settings

    if args.evaluate_only:
        config = rescore_settings(args.run_dir, args.set)
        metrics = evaluate_run(config.run_dir, write_videos=args.videos)
    else:
        config = recipe_config(args)
        model = train_run(config, overwrite=args.overwrite, verbose=2)
        metrics = evaluate_run(config.run_dir, model, write_videos=args.videos)
    recipe = None if args.evaluate_only else args.recipe
    return {"benchmark": "train", "recipe": recipe, **summary(metrics), **device_figures(),
            "config": metrics.get("config")}  # fmt: skip


def bench_backends(args: argparse.Namespace) -> dict:
    """One recipe trained and tested under each Keras backend, each in a process of its own.

    Each backend's run goes to ``RUN/<backend>``; the per-epoch times are compared with the
    first backend's (TensorFlow by default).
    """
    import subprocess

    changed = [f"--set={key}={json.dumps(value)}" for key, value in args.set.items()]
    rows = {}
    for backend in args.backends:
        command = [
            sys.executable, __file__, "train", "--family", args.family, "--recipe", args.recipe,
            "--run-dir", str(Path(args.run_dir) / backend), "--videos", "0", "--overwrite",
            *changed,
        ]  # fmt: skip
        env = {**os.environ, "KERAS_BACKEND": backend}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{backend}: training failed\n{done.stderr[-3000:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["epoch_seconds"] = round(row["train_seconds"] / max(row["epochs_trained"], 1), 1)
        rows[backend] = {k: v for k, v in row.items() if k not in ("benchmark", "config")}
    first = rows[args.backends[0]]["epoch_seconds"]
    for row in rows.values():
        row["epoch_time_ratio"] = round(row["epoch_seconds"] / first, 2)
    return {"benchmark": "backends", "family": args.family, "recipe": args.recipe,
            "settings": args.set, "backends": rows}  # fmt: skip


def bench_prediction(args: argparse.Namespace) -> dict:
    """Train a predictor's recipe (or resume it), then its held-out clips against copy-last."""
    from regularity.run.files import peak_rss_mb, read_json
    from regularity.run.quality import prediction_report

    config = recipe_config(args)
    train_run(config, overwrite=args.overwrite, verbose=2)
    start = time.perf_counter()
    report = prediction_report(config.run_dir, steps=args.steps, stride=args.stride)
    trained = read_json(Path(config.run_dir) / "metrics.json")
    return {
        "benchmark": "prediction", "family": args.family, "recipe": args.recipe,
        **{k: trained.get(k) for k in ("train_seconds", "epochs_trained", "peak_rss_mb_train",
                                         "train_frames")},
        "report_seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": peak_rss_mb(),
        **report, "config": config.to_dict(),
    }  # fmt: skip


def bench_movement(args: argparse.Namespace) -> dict:
    """Each movement in turn the trained one: train its matcher, match the test clips, pool."""
    from convlstm_ae.movement.matching import MEASURES, match_run, pooled_figures
    from convlstm_ae.movement.tuning import tune_movement
    from regularity.run.files import peak_rss_mb, read_json

    base = recipe_config(args)
    dataset = base.open_dataset()
    movements = args.movements or sorted({v.meta["movement"] for v in dataset.test})
    per_movement, clips = {}, {}
    for movement in movements:
        options = {**base.dataset_options, "normal": movement}
        config = base.replace(dataset_options=options, run_dir=f"{args.run_dir}/{movement}")
        if args.tune:  # keras-tuner on the held-out clip(s) of this movement only
            config, _ = tune_movement(config, args.tune, args.tune_epochs)
        if not args.match_only:
            train_run(config, overwrite=args.overwrite, verbose=2)
        matching, clips[movement] = match_run(config.run_dir)
        trained = read_json(Path(config.run_dir) / "metrics.json")
        per_movement[movement] = {
            **{m: {k: matching[m][k] for k in ("auc", "auc_per_movement", "eer", "accuracy")}
               for m in MEASURES},
            **{k: trained.get(k) for k in ("train_seconds", "epochs_trained", "peak_rss_mb_train")},
            "scoring_clips_per_s": matching["scoring_clips_per_s"],
        }  # fmt: skip
    return {
        "benchmark": "movement", "family": args.family, "recipe": args.recipe,
        "weights": base.weights or "none (random initial weights)", "backbone": base.backbone,
        "tuned": {m: read_json(Path(args.run_dir, m, "tuning.json")) for m in movements}
        if args.tune else None,
        "pooled": {m: pooled_figures(clips, m) for m in MEASURES},
        "per_movement": per_movement, "peak_rss_mb": round(peak_rss_mb()),
        "config": base.to_dict(),
    }  # fmt: skip


def bench_curve(args: argparse.Namespace) -> dict:
    from studies.comparisons import checkpoint_curve, scoring_variants

    specs = scoring_variants(args.run_dir, aggregates=True)
    return {
        "benchmark": "curve",
        "run": args.run_dir,
        "curve": checkpoint_curve(args.run_dir, specs, args.every),
    }


def bench_lenient(args: argparse.Namespace) -> dict:
    from studies.protocols import lenient_protocols, lenient_table

    curve = None
    if args.curve:  # a `curve` benchmark's output: its last line is the JSON
        curve = json.loads(Path(args.curve).read_text().splitlines()[-1])["curve"]
    figures = lenient_protocols(args.run_dir, args.batch_frames, curve=curve)
    print(lenient_table(figures))
    return {"benchmark": "lenient", "run": args.run_dir, **figures}


def bench_scoring(args: argparse.Namespace) -> dict:
    from studies.comparisons import compare_scoring, scoring_variants

    specs = scoring_variants(args.run_dir, smooth_windows=args.smooth_windows)
    return {
        "benchmark": "scoring",
        "run": args.run_dir,
        "frame_auc": compare_scoring(args.run_dir, specs),
    }


def bench_baselines(args: argparse.Namespace) -> dict:
    from studies.comparisons import baseline_variants

    from regularity.data import load_dataset

    dataset = load_dataset(args.dataset, root=args.root)
    return {
        "benchmark": "baselines",
        "dataset": args.dataset,
        "root": args.root,
        "frame_auc": baseline_variants(dataset, args.patches, args.tops, args.smooth_windows),
    }


def bench_cells(args: argparse.Namespace) -> dict:
    from studies.comparisons import cell_scoring

    return {
        "benchmark": "cells",
        "run": args.run_dir,
        "frame_auc": cell_scoring(
            args.run_dir,
            args.patches,
            args.tops,
            args.fusion_weights,
            dict(args.variants),
            dict(args.partners),
            tuple(args.fuse_with),
            [tuple(name.strip() for name in group.split("+")) for group in args.fisher],
            args.fusion_rule,
        ),
    }


def score_variant(text: str) -> tuple[str, dict]:
    """``--variants`` item: the study's parser, imported only when the option is used."""
    from studies.comparisons import score_variant

    return score_variant(text)


def partner_run(text: str) -> tuple[str, tuple[str, str]]:
    """``RUN_DIR:SCORE`` (SCORE: ``own``, ``cell8 top0.1`` or score fields) -> (text, parts)."""
    run_dir, sep, score = text.partition(":")
    if not sep or not score:
        raise argparse.ArgumentTypeError(f"expected RUN_DIR:SCORE, got {text!r}")
    return text, (run_dir, score)


def bench_speed(args: argparse.Namespace) -> dict:
    """Scoring speed of a trained run's network, decoding left out, on any Keras backend."""
    import keras
    import numpy as np

    from regularity.score.inference import SCORING_BATCH, predict_test_data

    batch_size = SCORING_BATCH if args.batch_size is None else args.batch_size
    config = load_config(args.run_dir)
    model = keras.saving.load_model(Path(args.run_dir) / "model.keras")
    spec = config.input_spec()
    rng = np.random.default_rng(0)
    clip = rng.normal(size=(args.frames, *spec.size, spec.channels)).astype(np.float32)
    predict_test_data(model, clip, config.window, batch_size=batch_size)  # traces, untimed
    start = time.perf_counter()
    for _ in range(args.clips):
        predict_test_data(model, clip, config.window, batch_size=batch_size)
    seconds = time.perf_counter() - start
    return {
        "benchmark": "speed", "run": args.run_dir, **device_figures(),
        "frame_size": list(spec.size),
        "batch_size": batch_size, "frames": args.frames * args.clips,
        "seconds": round(seconds, 2),
        "frames_per_second": round(args.frames * args.clips / seconds, 1),
    }  # fmt: skip


def device_figures() -> dict:
    """The Keras backend, its devices and, on an accelerator under JAX, its peak memory."""
    import keras

    backend = keras.backend.backend()
    if backend != "jax":
        import tensorflow as tf

        return {"backend": backend, "devices": [d.name for d in tf.config.list_logical_devices()]}
    import jax

    figures = {"backend": backend, "devices": [str(d) for d in jax.devices()]}
    stats = jax.devices()[0].memory_stats() or {}  # none on the CPU
    if "peak_bytes_in_use" in stats:
        figures["peak_device_memory_mb"] = round(stats["peak_bytes_in_use"] / 2**20)
    return figures


def add_run_arguments(command: argparse.ArgumentParser, family: str, recipe: str) -> None:
    """The flags that name a run to train: family, recipe, run folder, changed fields."""
    command.add_argument("--family", default=family, help="registered family name")
    command.add_argument("--recipe", default=recipe, help="the family's recipe to start from")
    command.add_argument("--run-dir", required=True, help="run folder to write (or resume)")
    command.add_argument(
        "--set", type=setting, action="append", default=[], metavar="KEY=VALUE",
        help="change one config field (repeatable; YAML values; score.aggregate=patch_max)",
    )  # fmt: skip
    command.add_argument("--overwrite", action="store_true", help="discard a different run")


def recipe_config(args: argparse.Namespace) -> object:
    """The recipe's config that the flags name, the ``--set`` fields applied."""
    from regularity.run.families import recipe_config as family_recipe

    return family_recipe(args.family, args.recipe, args.run_dir, args.set)


def parser() -> argparse.ArgumentParser:
    """The command line (every flag with its help)."""
    main = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = main.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="load a dataset and stream one epoch of windows")
    data.add_argument("--dataset", default="ped2", help="dataset name (load_dataset)")
    data.add_argument("--root", default=SHARED_DATA, help="data root")
    data.add_argument("--size", type=int, default=256, help="square frame size to resize to")
    data.add_argument("--length", type=int, default=10, help="frames per window")
    data.add_argument("--batch-size", type=int, default=4, help="windows per batch")
    data.add_argument("--scaling", default="standard", help="unit, symmetric or standard")
    data.add_argument("--cache", help="stream from a uint8 file in this folder, not memory")
    data.add_argument(
        "--repeat", type=int, default=1, help="take the training clips N times (N x the data)"
    )
    data.set_defaults(run=bench_data)
    train = sub.add_parser("train", help="train a family's recipe, then test it")
    add_run_arguments(train, "convlstm_ae", "ped2")
    train.add_argument("--videos", type=int, default=2, help="marked test videos to write")
    train.add_argument("--evaluate-only", action="store_true", help="rescore a trained run")
    train.set_defaults(run=bench_train)
    prediction = sub.add_parser(
        "prediction", help="train a predictor's recipe, then PSNR/SSIM against copy-last-frame"
    )
    add_run_arguments(prediction, "unet_predictor", "motion")
    prediction.add_argument("--steps", type=int, default=2, help="frames predicted recursively")
    prediction.add_argument("--stride", type=int, default=4, help="every N-th window evaluated")
    prediction.set_defaults(run=bench_prediction)
    movement = sub.add_parser(
        "movement", help="a movement matcher per movement, each against the others, pooled"
    )
    add_run_arguments(movement, "movement_matcher", "figures")
    movement.add_argument("--movements", nargs="+", help="trained movements (default: all)")
    movement.add_argument("--tune", type=int, default=0, help="keras-tuner trials per movement")
    movement.add_argument("--tune-epochs", type=int, default=3, help="epochs per trial")
    movement.add_argument("--match-only", action="store_true", help="match trained runs again")
    movement.set_defaults(run=bench_movement)
    curve = sub.add_parser("curve", help="frame AUC of every epoch checkpoint of a run")
    curve.add_argument("--run-dir", required=True, help="a trained run folder")
    curve.add_argument("--every", type=int, default=1, help="every N-th epoch (and the last)")
    curve.set_defaults(run=bench_curve)
    lenient = sub.add_parser("lenient", help="a run's frame AUC under lenient protocols")
    lenient.add_argument("--run-dir", required=True, help="a trained, tested run folder")
    lenient.add_argument("--batch-frames", type=int, default=256, help="frames per batch")
    lenient.add_argument("--curve", help="the run's `curve` JSON (for the epoch chosen by AUC)")
    lenient.set_defaults(run=bench_lenient)
    scoring = sub.add_parser("scoring", help="frame AUC of a run under every way of scoring")
    scoring.add_argument("--run-dir", required=True, help="a trained run folder")
    scoring.add_argument("--smooth-windows", type=int, nargs="+", help="e(t) smoothing windows")
    scoring.set_defaults(run=bench_scoring)
    baselines = sub.add_parser("baselines", help="frame AUC of no-learning motion baselines")
    baselines.add_argument("--dataset", default="ped1", help="dataset name (load_dataset)")
    baselines.add_argument("--root", default=f"{SHARED_DATA}/dev", help="data root")
    baselines.add_argument("--patches", type=int, nargs="+", default=[8, 16, 24], help="cells")
    baselines.add_argument("--tops", type=float, nargs="+", default=[0.02, 0.05, 0.1, 0.25])
    baselines.add_argument(
        "--smooth-windows",
        type=int,
        nargs="+",
        help="instead: the leaderboard's baselines at each window (--patches, --tops unused)",
    )
    baselines.set_defaults(run=bench_baselines)
    cells = sub.add_parser("cells", help="a run scored per cell, and fused with baselines")
    cells.add_argument("--run-dir", required=True, help="a trained run folder")
    cells.add_argument("--patches", type=int, nargs="+", default=[8, 16], help="cell sides")
    cells.add_argument("--tops", type=float, nargs="+", default=[0.05, 0.1, 0.25])
    cells.add_argument("--fusion-weights", type=float, nargs="+", default=[0.5, 1.0])
    cells.add_argument(
        "--fusion-rule",
        choices=FLOW_RULES,
        default="standardised",
        help="how the fusions with --fuse-with read both scores (as score.flow_rule)",
    )
    cells.add_argument(
        "--variants",
        type=score_variant,
        nargs="*",
        default=[],
        help="other ways of scoring the same outputs, each KEY=VALUE[,KEY=VALUE] of score fields "
        "(channels=appearance aggregate=patch_max,patch=16)",
    )
    cells.add_argument(
        "--partners",
        type=partner_run,
        nargs="*",
        default=[],
        help="other runs on the same dataset, RUN_DIR:SCORE, SCORE one of their e(t) "
        "(own, 'cell8 top0.1', channels=all): each added to this run's e(t), standardised",
    )
    cells.add_argument(
        "--fuse-with",
        nargs="+",
        choices=["flow", "difference"],
        default=["flow"],
        help="per-cell baselines fused with every score (studies.comparisons.FUSIBLE)",
    )
    cells.add_argument(
        "--fisher",
        nargs="*",
        default=[],
        help="groups of scores fused by Fisher's method, each NAME+NAME[+...] of the study's "
        "names (own, a variant, 'cell8 top0.1', flow, difference)",
    )
    cells.set_defaults(run=bench_cells)
    speed = sub.add_parser("speed", help="scoring speed of a run's network (any Keras backend)")
    speed.add_argument("--run-dir", required=True, help="a trained run folder")
    speed.add_argument("--frames", type=int, default=180, help="frames per clip")
    speed.add_argument("--clips", type=int, default=5, help="timed clips")
    speed.add_argument(
        "--batch-size", type=int, help="windows per model call (default: what scoring uses)"
    )
    speed.set_defaults(run=bench_speed)
    backends = sub.add_parser("backends", help="a recipe trained under each Keras backend")
    add_run_arguments(backends, "convlstm_ae", "ped2")
    backends.add_argument(
        "--backends", nargs="+", default=["tensorflow", "jax"], help="first: the reference"
    )
    backends.set_defaults(run=bench_backends)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if hasattr(args, "set"):
        args.set = dict(args.set)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from regularity.errors import exit_status
    from regularity.run.files import to_plain

    return exit_status(lambda: print(json.dumps(to_plain(args.run(args)), allow_nan=False)))


if __name__ == "__main__":
    sys.exit(main())
