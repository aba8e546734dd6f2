"""Load a dataset and write a contact sheet and a video of one test clip, ground truth outlined.

python scripts/preview_dataset.py synthetic --root data --out runs/preview
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from regularity.datasets import available_datasets, load_dataset
from regularity.media import contact_sheet, generate_video, outline_masks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=available_datasets(), nargs="?", default="synthetic")
    parser.add_argument("--root", default="data", help="data root")
    parser.add_argument("--out", default="runs/preview", help="output folder")
    parser.add_argument("--clip", type=int, default=0, help="index of the test clip to show")
    args = parser.parse_args()

    dataset = load_dataset(args.dataset, root=args.root)
    video = dataset.test[args.clip]
    frames = video.frames if video.masks is None else outline_masks(video.frames, video.masks)
    out = Path(args.out)
    sheet = contact_sheet(frames, out / f"{video.name}_sheet.png", labels=video.labels)
    videos = generate_video(frames, out / "videos" / video.name, fps=10)
    print(json.dumps({**dataset.summary(), "written": [str(p) for p in (sheet, *videos)]}))


if __name__ == "__main__":
    main()
