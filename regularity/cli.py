"""One command line for the whole life of a run: ``python -m regularity COMMAND``.

python -m regularity families                                   the families and their recipes
python -m regularity fetch ped2 --dest data                     download, check, extract
python -m regularity preview synthetic --root data              look at a dataset
python -m regularity train convlstm_ae --recipe synthetic       train a recipe, then test it
python -m regularity evaluate runs/convlstm_ae_synthetic --set score.aggregate=patch_max
python -m regularity score runs/demo clip.avi frames_folder/    your own videos
python -m regularity match runs/movement_wave clip.avi strip.png
python -m regularity leaderboard --dataset ped2 --out runs/leaderboard
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path

import yaml

from regularity.errors import exit_status

# What `train` and `evaluate` print of metrics.json: the headline figures, not every curve.
SUMMARY = (
    "dataset", "model", "frame_auc", "eer", "second_scores", "threshold", "tpr", "fpr", "baseline",
    "localisation", "train_seconds", "epochs_trained", "score_fps", "peak_rss_mb",
    "peak_rss_mb_train",
)  # fmt: skip


def setting(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as YAML (numbers, lists, booleans, null).

    >>> setting("learning_rate=3e-4"), setting("size=[192, 288]")
    (('learning_rate', 0.0003), ('size', [192, 288]))
    """
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    parsed = yaml.safe_load(value)
    if isinstance(parsed, str):  # YAML 1.1 reads 3e-4 (no decimal point) as text
        try:
            parsed = float(parsed)
        except ValueError:
            pass
    return key, parsed


def add_settings(command: argparse.ArgumentParser, what: str) -> None:
    """The repeatable ``--set KEY=VALUE`` flag."""
    command.add_argument(
        "--set", type=setting, action="append", default=[], metavar="KEY=VALUE",
        help=f"change one {what} field (repeatable; YAML values, e.g. score.aggregate=patch_max)",
    )  # fmt: skip


def summary(metrics: dict) -> dict:
    """The headline figures of a run's metrics."""
    return {k: metrics[k] for k in SUMMARY if k in metrics}


def _families(args: argparse.Namespace) -> None:
    from regularity.run.families import families

    for name, family in sorted(families().items()):
        print(f"{name}: {family.description}\n  recipes: {', '.join(sorted(family.recipes))}")


def _fetch(args: argparse.Namespace) -> None:
    from regularity.data.fetch import fetch

    for folder in fetch(args.dataset, args.dest, mirror=args.mirror):
        print(folder)


def _preview(args: argparse.Namespace) -> None:
    from regularity.data import load_dataset
    from regularity.show.preview import preview_clips

    dataset = load_dataset(args.dataset, root=args.root)
    shown = preview_clips(dataset, args.out, clips=[args.clip], splits=["test"])
    written = [path for clip in shown["clips"] for path in (clip["sheet"], clip["video"])]
    print(json.dumps({**dataset.summary(), "written": [str(p) for p in written]}))


def _train(args: argparse.Namespace) -> None:
    from regularity.run.evaluation import evaluate_run
    from regularity.run.families import recipe_config
    from regularity.run.pipeline import train_run

    config = recipe_config(args.family, args.recipe, args.run_dir, dict(args.set))
    # Training leaves its heap behind (TensorFlow's and malloc's caches, the clip store): scoring
    # the normal clips and the test split in the same process adds their peak on top of it. As
    # the whole program, `train` becomes `evaluate` instead, which derives the thresholds and
    # tests in a fresh process; the kernel keeps the training's peak in the process's rusage,
    # so the run's `peak_rss_mb` still covers the whole command. (Windows has no exec: its
    # os.execv starts another process and returns to the shell, so it tests in this one.)
    fresh = args.own_process and not args.no_evaluate and os.name == "posix"
    model = train_run(config, overwrite=args.overwrite, verbose=2, thresholds=not fresh)
    print(f"trained {config.run_dir}")
    if fresh:
        sys.stderr.flush()
        command = ["-m", "regularity", "evaluate", "--videos", str(args.videos), "--"]
        command.append(str(config.run_dir))
        print(f"testing in a fresh process: {shlex.join(['python', *command])}", flush=True)
        os.execv(sys.executable, [sys.executable, *command])
    elif not args.no_evaluate:
        metrics = evaluate_run(config.run_dir, model, write_videos=args.videos)
        _print_evaluation(metrics, Path(config.run_dir))


def _evaluate(args: argparse.Namespace) -> None:
    from regularity.run.evaluation import evaluate_run, rescore_settings

    if args.set:
        rescore_settings(args.run, dict(args.set))
    metrics = evaluate_run(args.run, write_videos=args.videos, fps=args.fps)
    _print_evaluation(metrics, args.run)


def _print_evaluation(metrics: dict, run: Path) -> None:
    from regularity.run.files import to_plain
    from regularity.score.verdict import verdict_line

    for clip in metrics.get("clips", []):
        print(verdict_line(clip))
    print(json.dumps(to_plain(summary(metrics))))
    print(f"report: {run / 'report.html'}")


def _score(args: argparse.Namespace) -> None:
    from regularity.run.evaluation import score_any
    from regularity.score.verdict import verdict_line

    out, scored = score_any(
        args.run, args.videos, args.out, write_videos=not args.no_videos, fps=args.fps
    )
    for clip in scored["clips"]:
        print(verdict_line(clip))
    print(
        f"scored {len(args.videos)} video(s) at {scored['score_fps']:.1f} frames/s against "
        f"the threshold {scored['threshold']['value']:.4g} ({scored['threshold']['source']})"
    )
    print(f"results in {out}/; report: {out / 'report.html'}")  # fmt: skip


def _match(args: argparse.Namespace) -> None:
    from regularity.errors import ParameterError
    from regularity.run.families import family_of, load_config

    family = family_of(load_config(args.run).model)
    if family.match is None:
        raise ParameterError(args.run, f"a {family.name} run does not match clips to a movement")
    for answer in family.match(args.run, args.clips, args.out):
        verdict = "performs" if answer["performs"] else "does NOT perform"
        print(f"{answer['clip']}: {verdict} {answer['movement']} ({answer['measure']} "
              f"{answer['score']:.3f}, threshold {answer['threshold']:.3f}); "
              f"curve {answer['curve']}")  # fmt: skip


def _leaderboard(args: argparse.Namespace) -> None:
    from regularity.run.leaderboard import leaderboard

    entries = leaderboard(
        args.dataset, args.out, args.runs, args.data_root, args.train, args.videos
    )
    print((Path(args.out) / f"leaderboard_{args.dataset}.md").read_text(), end="")
    print(f"{len(entries)} entries; table, JSON and ROC plot in {args.out}/")


def parser() -> argparse.ArgumentParser:
    """The command line; every flag has its help and its default."""
    shows_defaults = argparse.ArgumentDefaultsHelpFormatter
    main = argparse.ArgumentParser(
        prog="python -m regularity",
        description=__doc__.splitlines()[0],
        formatter_class=shows_defaults,
    )
    sub = main.add_subparsers(dest="command", required=True)

    def command(name: str, run: object, text: str, keras: bool = True) -> argparse.ArgumentParser:
        found = sub.add_parser(name, help=text, description=text, formatter_class=shows_defaults)
        found.set_defaults(run_command=run, uses_keras=keras)
        return found

    command("families", _families, "list the registered model families and their recipes")
    # Fetching and looking at data use no model: they skip TensorFlow's 5-10 s start.
    fetch = command("fetch", _fetch, "download, check and extract a public dataset", keras=False)
    fetch.add_argument("dataset", help="ucsd (= ped1 = ped2), avenue or ucf101")
    fetch.add_argument("--dest", default="data", help="data root")
    fetch.add_argument("--mirror", help="base URL of a copy of the archives")
    preview = command("preview", _preview, "contact sheet and video of one test clip", keras=False)
    preview.add_argument("dataset", nargs="?", default="synthetic", help="dataset name")
    preview.add_argument("--root", default="data", help="data root")
    preview.add_argument("--out", default="runs/preview", help="output folder")
    preview.add_argument("--clip", type=int, default=0, help="index of the test clip to show")
    train = command("train", _train, "train a family's declared recipe (or resume it), then test")
    train.add_argument("family", help="registered family name (see `families`)")
    train.add_argument("--recipe", default="synthetic", help="the family's recipe to start from")
    train.add_argument("--run-dir", help="run folder (default: runs/<family>_<recipe>)")
    add_settings(train, "config")
    train.add_argument("--overwrite", action="store_true", help="discard a different run there")
    train.add_argument("--no-evaluate", action="store_true", help="train only, do not test")
    train.add_argument("--videos", type=int, default=2, help="marked test videos to write")
    evaluate = command("evaluate", _evaluate, "test a trained run on its dataset's test split")
    evaluate.add_argument("run", type=Path, help="a trained run folder (holds config.json)")
    add_settings(evaluate, "score (thresholds are derived again; training fields refused)")
    evaluate.add_argument("--videos", type=int, default=2, help="marked test videos to write")
    evaluate.add_argument("--fps", type=float, help="video frame rate (default: each clip's own)")
    score = command("score", _score, "score video files or frame folders with a trained run")
    score.add_argument("run", type=Path, help="a trained run folder (holds config.json)")
    score.add_argument("videos", nargs="+", type=Path, help="video files or frame folders")
    score.add_argument("--out", type=Path, help="output folder (default: <run>_scored)")
    score.add_argument("--no-videos", action="store_true", help="write no marked mp4s")
    score.add_argument("--fps", type=float, help="video frame rate (default: each clip's own)")
    match = command("match", _match, "does each clip perform a movement matcher's movement?")
    match.add_argument("run", type=Path, help="a trained movement matcher's run folder")
    match.add_argument("clips", nargs="+", type=Path, help="video files, frame folders or strips")
    match.add_argument("--out", type=Path, help="folder for the curves (default: <run>_matched)")
    board = command("leaderboard", _leaderboard, "every family's declared run beside baselines")
    board.add_argument("--dataset", default="ped2", help="dataset every entry is evaluated on")
    board.add_argument(
        "--out", default="runs/leaderboard",
        help="folder for the table and plot (the committed ones: docs/leaderboard)",
    )  # fmt: skip
    board.add_argument("--runs", default="runs", help="folder of the declared runs")
    board.add_argument("--data-root", help="data root, when not the recipes' own")
    board.add_argument("--train", action="store_true", help="train declared runs not there yet")
    board.add_argument("--videos", type=int, default=0, help="marked videos per run")
    return main


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up lines (CUDA probe, CPU features) kept off stderr.

    They are written to the process's stderr before any log setting applies, and a user of
    the command line would read them as errors. Python's own errors still show.
    """
    import os
    import sys

    from regularity import tensorflow_installed

    keras_backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules or keras_backend != "tensorflow" or not tensorflow_installed():
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices()  # the device probe logs as well
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """Run the command line; returns the exit status (2: bad input, said in one line).

    ``own_process``: the command line is the whole program (``python -m regularity``), so
    `train` may replace it with a fresh `evaluate` process rather than test in its own.
    """
    args = parser().parse_args(argv)
    args.own_process = own_process
    if args.uses_keras:
        import_tensorflow_quietly()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    return exit_status(lambda: args.run_command(args))
