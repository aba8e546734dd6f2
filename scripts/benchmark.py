"""Benchmarks that print one JSON line each.

python scripts/benchmark.py data --root ../shared/data          load Ped2, stream 10-frame windows
python scripts/benchmark.py convlstm --root ../shared/data ...  train and evaluate on Ped2
python scripts/benchmark.py curve --run-dir RUN                  frame AUC of every epoch
python scripts/benchmark.py scoring --run-dir RUN                every way of scoring one model
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from convlstm_ae.train import AEConfig
from regularity.datasets import load_dataset
from regularity.preprocess import Normalizer, prepare_frames
from regularity.runs import peak_rss_mb
from regularity.windows import SkipFrameAnomalies, window_dataset


def bench_data(args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    dataset = load_dataset(args.dataset, root=args.root)
    summary = dataset.summary()  # decodes every clip
    load_s = time.perf_counter() - start
    load_rss = peak_rss_mb()

    start = time.perf_counter()
    clips = [prepare_frames(v.frames, (args.size, args.size)) for v in dataset.train]
    for video in dataset.train + dataset.test:
        video.release()  # only the resized copies are needed from here on
    normalizer = Normalizer.fit(clips, args.scaling)
    prepare_s = time.perf_counter() - start
    stream = window_dataset(clips, args.length, normalizer, batch_size=args.batch_size)
    start = time.perf_counter()
    windows = sum(int(x.shape[0]) for x, _ in stream)
    stream_s = time.perf_counter() - start
    return {
        "benchmark": "data",
        **summary,
        "load_seconds": round(load_s, 2),
        "load_frames_per_second": round(
            (summary["train_frames"] + summary["test_frames"]) / load_s
        ),
        "peak_rss_mb_after_load": round(load_rss),
        "prepare_seconds": round(prepare_s, 2),
        "frame_size": args.size,
        "window_length": args.length,
        "epoch_windows": windows,
        "epoch_seconds": round(stream_s, 2),
        "windows_per_second": round(windows / stream_s),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def bench_convlstm(args: argparse.Namespace) -> dict:
    import keras

    from convlstm_ae import derive_thresholds, train
    from regularity.runs import read_json, save_config
    from regularity.testing import ScoreSpec, evaluate_run

    score = ScoreSpec(
        aggregate=args.aggregate, patch=args.patch, scale=args.scale, channels=args.channels
    )
    if args.evaluate_only:
        # Score a trained run (another way): its own training parameters, this score spec.
        saved = read_json(Path(args.run_dir) / "config.json")
        fields = set(AEConfig.__dataclass_fields__) - {"score"}
        # Runs saved before a parameter existed keep its default.
        values = {k: saved[k] for k in fields if k in saved} | _thresholds_from(args)
        config = AEConfig(**values, score=score)
        save_config(config.run_dir, config.to_dict())
        model = keras.saving.load_model(Path(config.run_dir) / "model.keras")
        derive_thresholds(config, model, load_dataset(config.dataset, root=config.data_root))
        metrics = evaluate_run(config.run_dir, model, write_videos=args.videos)
        return _convlstm_summary(metrics)
    config = AEConfig(
        dataset=args.dataset,
        data_root=args.root,
        run_dir=args.run_dir,
        size=(args.height, args.width),
        motion=args.motion,
        filters=tuple(args.filters),
        normalization=None if args.normalization == "none" else args.normalization,
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        batch_size=args.batch_size,
        window_stride=args.window_stride,
        dtype_policy=args.dtype_policy,
        max_minutes=args.max_minutes,
        scaling=args.scaling,
        skips=tuple(args.skips),
        pseudo_anomaly_rate=args.pseudo_anomaly_rate,
        pseudo_anomaly_jumps=tuple(args.pseudo_anomaly_jumps),
        average_epochs=args.average_epochs,
        seed=args.seed,
        score=score,
        **_thresholds_from(args),
    )
    model = train(config, verbose=2)
    return _convlstm_summary(evaluate_run(config.run_dir, model, write_videos=args.videos))


def _thresholds_from(args: argparse.Namespace) -> dict:
    # Unset: a rescored run keeps its own choice, a new run takes AEConfig's default.
    return {"thresholds_from": args.thresholds_from} if args.thresholds_from else {}


def _convlstm_summary(metrics: dict) -> dict:
    keys = (
        "dataset",
        "model",
        "frame_auc",
        "eer",
        "threshold",
        "tpr",
        "fpr",
        "baseline",
        "localisation",
        "train_seconds",
        "epochs_trained",
        "score_fps",
        "peak_rss_mb",
        "peak_rss_mb_train",
        "config",
    )
    return {"benchmark": "convlstm", **{k: metrics.get(k) for k in keys}}


def _test_split(run: Path) -> tuple[dict, Normalizer, list, list]:
    from regularity.runs import read_json
    from regularity.testing import InputSpec, get_test_data

    config = read_json(run / "config.json")
    normalizer = Normalizer.load(run / "normalizer.npz")
    dataset = load_dataset(config["dataset"], root=config["data_root"])
    spec = InputSpec(**config["input"])
    scaled = [get_test_data(v, spec, normalizer) for v in dataset.test]
    return config, normalizer, scaled, [v.labels for v in dataset.test]


def bench_curve(args: argparse.Namespace) -> dict:
    """Frame AUC of every epoch checkpoint of a run: AUC against training time."""
    import keras

    from regularity.runs import read_json
    from regularity.scoring import Aggregate
    from regularity.testing import ScoreSpec, frame_aucs

    run = Path(args.run_dir)
    config, normalizer, scaled, labels = _test_split(run)
    score = ScoreSpec(**config["score"])
    # The run's own aggregation first; the other one beside it as an ablation.
    specs = {
        name.value: replace(score, aggregate=name)
        for name in dict.fromkeys([Aggregate(score.aggregate), *Aggregate])
    }
    epochs = len((run / "history.csv").read_text().splitlines()) - 1
    minutes_per_epoch = read_json(run / "metrics.json")["train_seconds"] / 60 / epochs
    curve = []
    for checkpoint in sorted((run / "checkpoints").glob("epoch_*.keras")):
        epoch = int(checkpoint.stem.split("_")[1])
        model = keras.saving.load_model(checkpoint)
        curve.append(
            {
                "epoch": epoch,
                "train_minutes": round(epoch * minutes_per_epoch, 1),
                "frame_auc": frame_aucs(
                    model, scaled, labels, normalizer, specs, config["length"], config["target"]
                ),
            }
        )
    return {"benchmark": "curve", "run": str(run), "score": config["score"], "curve": curve}


def bench_scoring(args: argparse.Namespace) -> dict:
    """Frame AUC of a trained run under every error scale, channel choice and aggregation.

    With ``--smooth-windows``, the run's own score spec under each temporal smoothing instead.
    """
    import itertools

    import keras

    from regularity.scoring import Aggregate, Channels, ErrorScale
    from regularity.testing import ScoreSpec, frame_aucs

    run = Path(args.run_dir)
    config, normalizer, scaled, labels = _test_split(run)
    base = ScoreSpec(**config["score"])
    channels = list(Channels) if config["input"]["motion"] else [Channels.ALL]
    if args.smooth_windows:
        specs = {f"smooth_{w}": replace(base, smooth_window=w) for w in args.smooth_windows}
    else:
        specs = {
            f"{s.value}/{c.value}/{a.value}": replace(base, scale=s, channels=c, aggregate=a)
            for s, c, a in itertools.product(ErrorScale, channels, Aggregate)
        }
    model = keras.saving.load_model(run / "model.keras")
    aucs = frame_aucs(model, scaled, labels, normalizer, specs, config["length"], config["target"])
    return {"benchmark": "scoring", "run": str(run), "frame_auc": aucs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="load a dataset and stream one epoch of windows")
    data.add_argument("--dataset", default="ped2")
    data.add_argument("--root", default="../shared/data")
    data.add_argument("--size", type=int, default=256)
    data.add_argument("--length", type=int, default=10)
    data.add_argument("--batch-size", type=int, default=4)
    data.add_argument("--scaling", default="standard")
    data.set_defaults(run=bench_data)
    conv = sub.add_parser("convlstm", help="train and evaluate the ConvLSTM autoencoder")
    conv.add_argument("--dataset", default="ped2")
    conv.add_argument("--root", default="../shared/data")
    conv.add_argument("--run-dir", default="runs/bench_convlstm_ped2")
    conv.add_argument("--height", type=int, default=128)
    conv.add_argument("--width", type=int, default=192)
    conv.add_argument("--motion", action=argparse.BooleanOptionalAction, default=True)
    conv.add_argument(
        "--filters",
        type=int,
        nargs=6,
        default=list(AEConfig.filters),
        help="conv1 conv2 lstm1 lstm2 lstm3 deconv1",
    )
    conv.add_argument(
        "--normalization", choices=("layer", "batch", "none"), default=AEConfig.normalization
    )
    conv.add_argument("--learning-rate", type=float, default=AEConfig.learning_rate)
    conv.add_argument("--epochs", type=int, default=20)
    conv.add_argument("--max-minutes", type=float, default=50)
    conv.add_argument("--batch-size", type=int, default=4)
    conv.add_argument("--window-stride", type=int, default=4)
    conv.add_argument("--dtype-policy", default="mixed_bfloat16")
    conv.add_argument("--scaling", default="standard")
    # Normal motion at stride 1, faster motion as skip-frame pseudo anomalies (Astrid et al.
    # 2021, their published Ped2 setting), fixed before any Ped2 run of it.
    conv.add_argument("--skips", type=int, nargs="+", default=[1])
    conv.add_argument("--pseudo-anomaly-rate", type=float, default=SkipFrameAnomalies.rate)
    conv.add_argument(
        "--pseudo-anomaly-jumps", type=int, nargs="+", default=list(SkipFrameAnomalies.jumps)
    )
    # The epoch-to-epoch jitter of the test AUC (0.02 on Ped2) is the weights'; test with their
    # moving average over the last few epochs rather than one epoch's.
    conv.add_argument("--average-epochs", type=float, default=3.0)
    # Scoring decided on the synthetic set (see README), never on Ped2's test labels.
    conv.add_argument("--aggregate", default="sum")
    conv.add_argument("--scale", default="grey")
    conv.add_argument("--channels", default="motion")
    conv.add_argument("--patch", type=int, default=16)
    conv.add_argument(
        "--thresholds-from",
        choices=("held_out", "normal"),
        help="normal clips the red-dot and frame thresholds come from (default: the run's "
        "own, else AEConfig's)",
    )
    conv.add_argument("--videos", type=int, default=2, help="marked videos to write")
    conv.add_argument("--seed", type=int, default=0)
    conv.add_argument("--evaluate-only", action="store_true", help="test an existing run")
    conv.set_defaults(run=bench_convlstm)
    curve = sub.add_parser("curve", help="frame AUC of every epoch checkpoint of a run")
    curve.add_argument("--run-dir", default="runs/bench_convlstm_ped2")
    curve.set_defaults(run=bench_curve)
    scoring = sub.add_parser("scoring", help="frame AUC of a run under every way of scoring")
    scoring.add_argument("--run-dir", default="runs/bench_convlstm_ped2")
    scoring.add_argument("--smooth-windows", type=int, nargs="+", help="e(t) smoothing windows")
    scoring.set_defaults(run=bench_scoring)
    args = parser.parse_args()
    print(json.dumps(args.run(args)))


if __name__ == "__main__":
    main()
