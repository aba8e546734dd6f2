"""Load a dataset and write a contact sheet and a video of one test clip, ground truth outlined.

python scripts/preview_dataset.py synthetic --root data --out runs/preview
"""

from __future__ import annotations

import argparse
import json
import sys

from regularity.datasets import available_datasets, load_dataset
from regularity.errors import exit_status
from regularity.preview import preview_clips


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=available_datasets(), nargs="?", default="synthetic")
    parser.add_argument("--root", default="data", help="data root")
    parser.add_argument("--out", default="runs/preview", help="output folder")
    parser.add_argument("--clip", type=int, default=0, help="index of the test clip to show")
    args = parser.parse_args()

    def preview() -> None:
        dataset = load_dataset(args.dataset, root=args.root)
        shown = preview_clips(dataset, args.out, clips=[args.clip], splits=["test"])
        written = [path for clip in shown["clips"] for path in (clip["sheet"], clip["video"])]
        print(json.dumps({**dataset.summary(), "written": written}))

    return exit_status(preview)


if __name__ == "__main__":
    sys.exit(main())
