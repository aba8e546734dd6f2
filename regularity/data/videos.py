"""Readers for datasets stored as video files: CUHK Avenue and folders of clips (UCF-101).

CUHK Avenue (``Avenue_Dataset.zip`` plus ``ground_truth_demo.zip``)::

    avenue/
        training_videos/01.avi ... 16.avi
        testing_videos/01.avi ... 21.avi
        testing_label_mask/1_label.mat ...   volLabel: one H x W mask per frame
                                              (also found under ground_truth_demo/)

A folder of clips (UCF-101 names them ``v_<Class>_g<group>_c<clip>.avi``)::

    UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi ...    (or all clips in one folder)
    ucfTrainTestlist/trainlist01.txt, testlist01.txt          (or splits/; optional)

Without split lists, UCF-101 clips of groups 1-7 are the test split, as in the official split 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from regularity.data.base import Color, Dataset, Video
from regularity.data.groundtruth import read_vol_label
from regularity.data.readers import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    read_frame_strip,
    read_image_folder,
    read_video_file,
    video_fps,
)
from regularity.errors import MissingDataError

UCF_NAME = re.compile(r"v_(?P<label>\w+?)_g(?P<group>\d+)_c(?P<clip>\d+)")
UCF_TEST_GROUPS = range(1, 8)


def _videos_in(folder: Path, recursive: bool = False) -> list[Path]:
    if not folder.is_dir():
        raise MissingDataError(folder, "folder of videos does not exist")
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in folder.glob(pattern) if p.suffix.lower() in VIDEO_SUFFIXES)
    if not files:
        raise MissingDataError(folder, f"folder holds no videos ({', '.join(VIDEO_SUFFIXES)})")
    return files


def _clip(
    path: Path,
    color: Color,
    labels: np.ndarray | None = None,
    load_masks: Callable[[], np.ndarray] | None = None,
    strict: bool = True,
) -> Video:
    meta = {"fps": video_fps(path)}
    match = UCF_NAME.fullmatch(path.stem)
    if match:
        meta.update(label=match["label"], group=int(match["group"]), clip=int(match["clip"]))
    return Video(
        name=path.stem,
        source=str(path),
        load_frames=partial(read_video_file, path, color, strict, meta),
        labels=labels,
        load_masks=load_masks,
        meta=meta,
    )


def _avenue_mask_file(folder: Path, clip: Path) -> Path:
    name = f"{int(clip.stem)}_label.mat"
    for candidate in (
        folder / "testing_label_mask",
        folder / "ground_truth_demo" / "testing_label_mask",
    ):
        if (candidate / name).is_file():
            return candidate / name
    raise MissingDataError(folder / "testing_label_mask" / name, "Avenue ground truth is missing")


def read_avenue(
    folder: str | Path, color: Color | str = Color.GREY, strict: bool = True
) -> Dataset:
    """Read CUHK Avenue (module docstring); labels are the frames whose mask is non-empty.

    With ``strict=False`` a truncated video keeps the frames that decode (`read_video_file`).
    """
    folder = Path(folder)
    color = Color(color)
    test = []
    for path in _videos_in(folder / "testing_videos"):
        masks = read_vol_label(_avenue_mask_file(folder, path))
        labels = masks.reshape(len(masks), -1).any(axis=1)
        test.append(_clip(path, color, labels, lambda m=masks: m, strict))
    train = [_clip(p, color, strict=strict) for p in _videos_in(folder / "training_videos")]
    return Dataset(name="avenue", root=str(folder), train=train, test=test)


def _split_lists(root: Path) -> dict[str, set[str]] | None:
    for folder in (root / "ucfTrainTestlist", root / "splits", root):
        train, test = folder / "trainlist01.txt", folder / "testlist01.txt"
        if train.is_file() and test.is_file():
            return {
                split: {
                    Path(line.split()[0]).stem
                    for line in f.read_text().splitlines()
                    if line.strip()
                }
                for split, f in (("train", train), ("test", test))
            }
    return None


def read_video_folder(
    folder: str | Path, color: Color | str = Color.RGB, name: str = "videos", strict: bool = True
) -> Dataset:
    """Read a folder of video clips (module docstring), split by the lists or by group.

    With ``strict=False`` a truncated video keeps the frames that decode (`read_video_file`).
    """
    folder = Path(folder)
    color = Color(color)
    clips = [_clip(p, color, strict=strict) for p in _videos_in(folder, recursive=True)]
    lists = _split_lists(folder)
    if lists is not None:
        is_test = [c.name in lists["test"] for c in clips]
        keep = [c.name in lists["test"] | lists["train"] for c in clips]
    else:
        is_test = [c.meta.get("group", 1) in UCF_TEST_GROUPS for c in clips]
        keep = [True] * len(clips)
    pairs = [(c, t) for c, t, k in zip(clips, is_test, keep, strict=True) if k]
    return Dataset(
        name=name,
        root=str(folder),
        train=[c for c, t in pairs if not t],
        test=[c for c, t in pairs if t],
    )


def open_video(path: str | Path, color: Color | str = Color.GREY) -> Video:
    """Any one clip without labels: a video file, a folder of numbered frames, or a frame strip.

    A strip is one image holding square frames side by side (the Weizmann strips' layout).
    """
    path = Path(path)
    if path.is_dir():
        return Video(path.name, str(path), partial(read_image_folder, path, Color(color)))
    if not path.is_file():
        raise MissingDataError(path, "no such video file, frame folder or frame strip")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return Video(path.stem, str(path), partial(read_frame_strip, path, None, Color(color)))
    return _clip(path, Color(color))
