"""Command line: score any video with a trained run; the leaderboard of a dataset.

python -m regularity score runs/demo clip.avi frames_folder/ ...
python -m regularity leaderboard --dataset ped2 --out docs/leaderboard
python -m regularity match runs/movement_wave clip.avi strip.png ...
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from regularity.errors import exit_status


def _score(args: argparse.Namespace) -> None:
    from regularity.evaluation import score_any

    out, fps = score_any(args.run, args.videos, args.out, write_videos=not args.no_videos)
    print(f"scored {len(args.videos)} video(s) at {fps:.1f} frames/s; results in {out}/")


def _leaderboard(args: argparse.Namespace) -> None:
    from regularity.leaderboard import leaderboard

    entries = leaderboard(
        args.dataset, args.out, args.runs, args.data_root, args.train, args.videos
    )
    print((Path(args.out) / f"leaderboard_{args.dataset}.md").read_text(), end="")
    print(f"{len(entries)} entries; table, JSON and ROC plot in {args.out}/")


def _match(args: argparse.Namespace) -> None:
    from regularity.matching import does_it_perform

    for answer in does_it_perform(args.run, args.clips, args.out):
        verdict = "performs" if answer["performs"] else "does NOT perform"
        print(f"{answer['clip']}: {verdict} {answer['movement']} ({answer['measure']} "
              f"{answer['score']:.3f}, threshold {answer['threshold']:.3f}); "
              f"curve {answer['curve']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m regularity", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="score video files or frame folders with a trained run")
    score.add_argument("run", type=Path, help="a trained run folder (holds config.json)")
    score.add_argument("videos", nargs="+", type=Path, help="video files or frame folders")
    score.add_argument(
        "--out", type=Path, help="output folder (default: <run>_scored beside the run)"
    )
    score.add_argument("--no-videos", action="store_true", help="write no marked mp4s")
    score.set_defaults(run_command=_score)
    board = sub.add_parser(
        "leaderboard", help="every family's declared run beside the frame difference"
    )
    board.add_argument("--dataset", default="ped2", help="dataset every entry is evaluated on")
    board.add_argument("--out", default="docs/leaderboard", help="folder for the table and plot")
    board.add_argument("--runs", default="runs", help="folder of the declared runs")
    board.add_argument("--data-root", help="data root, when not the recipes' own")
    board.add_argument("--train", action="store_true", help="train declared runs not there yet")
    board.add_argument("--videos", type=int, default=0, help="marked videos per run")
    board.set_defaults(run_command=_leaderboard)
    match = sub.add_parser(
        "match", help="does each clip perform the movement a movement matcher was trained on?"
    )
    match.add_argument("run", type=Path, help="a trained movement matcher's run folder")
    match.add_argument("clips", nargs="+", type=Path, help="video files, frame folders or strips")
    match.add_argument("--out", type=Path, help="folder for the curves (default <run>_matched)")
    match.set_defaults(run_command=_match)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return exit_status(lambda: args.run_command(args))


if __name__ == "__main__":
    sys.exit(main())
