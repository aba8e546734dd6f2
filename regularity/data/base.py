"""The objects every reader returns: a `Video` and a `Dataset` of train and test videos."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

from regularity.errors import GroundTruthError


class Color(str, Enum):
    """How frames are decoded."""

    GREY = "grey"
    RGB = "rgb"


class Split(str, Enum):
    """Which half of a dataset."""

    TRAIN = "train"
    TEST = "test"


def convert_color(frames: np.ndarray, color: Color | str) -> np.ndarray:
    """uint8 ``[N, H, W]``, ``[N, H, W, 1]`` or ``[N, H, W, 3]`` frames as ``[N, H, W, C]``.

    >>> convert_color(np.zeros((2, 4, 4), np.uint8), "rgb").shape
    (2, 4, 4, 3)
    """
    if frames.ndim == 3:
        frames = frames[..., None]
    if Color(color) is Color.GREY and frames.shape[-1] == 3:
        return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])[..., None]
    if Color(color) is Color.RGB and frames.shape[-1] == 1:
        return np.repeat(frames, 3, axis=-1)
    return frames


@dataclass(eq=False)
class Video:
    """One clip: decoded lazily, cached once as uint8.

    Attributes:
        name: clip name as the dataset spells it (``Test001``, ``01``, ``v_Shotput_g05_c02``).
        source: the folder or file the frames come from (named in errors).
        load_frames: returns ``[N, H, W]`` (grey) or ``[N, H, W, 3]`` uint8 frames.
        labels: ``[N]`` bool, True for abnormal frames, or None when unknown.
        load_masks: returns ``[N, H, W]`` bool pixel masks, or None when there are none.
        meta: free-form extras (frame rate, class name, group, ...).

    """

    name: str
    source: str
    load_frames: Callable[[], np.ndarray] = field(repr=False)
    labels: np.ndarray | None = None
    load_masks: Callable[[], np.ndarray] | None = field(default=None, repr=False)
    meta: dict = field(default_factory=dict)
    _frames: np.ndarray | None = field(default=None, init=False, repr=False)
    _masks: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def frames(self) -> np.ndarray:
        """The decoded uint8 frames, read on first use and then kept."""
        if self._frames is None:
            frames = self.load_frames()
            if self.labels is not None and len(self.labels) != len(frames):
                raise GroundTruthError(
                    self.source,
                    f"ground truth covers {len(self.labels)} frames but the clip has {len(frames)}",
                )
            self._frames = frames
        return self._frames

    @property
    def masks(self) -> np.ndarray | None:
        """Pixel masks of the abnormal regions, ``[N, H, W]`` bool, or None."""
        if self._masks is None and self.load_masks is not None:
            masks = self.load_masks()
            if len(masks) != len(self.frames) or masks.shape[1:3] != self.frames.shape[1:3]:
                raise GroundTruthError(
                    self.source,
                    f"pixel masks {masks.shape} do not match the frames {self.frames.shape}",
                )
            self._masks = masks
        return self._masks

    def __len__(self) -> int:
        return len(self.frames)

    def release(self) -> None:
        """Forget the cached frames and masks (they are read again on next use)."""
        self._frames = None
        self._masks = None


@dataclass
class Dataset:
    """A named dataset: normal training clips and labelled test clips."""

    name: str
    root: str
    train: list[Video]
    test: list[Video]
    dropped: dict[str, float] = field(default_factory=dict)  # clips left out, and why (a value)

    def split(self, split: Split | str) -> list[Video]:
        """The videos of one split."""
        return self.train if Split(split) is Split.TRAIN else self.test

    def summary(self) -> dict:
        """Counts of clips, frames and abnormal frames, and the frame sizes (decodes every clip).

        ``frame_sizes`` lists the distinct ``(H, W)`` of the clips, smallest first;
        ``mixed_frame_sizes`` is True when there is more than one (resize before batching).
        """
        sizes = sorted({tuple(int(n) for n in v.frames.shape[1:3]) for v in self.train + self.test})
        return {
            "name": self.name,
            "train_clips": len(self.train),
            "train_frames": sum(len(v) for v in self.train),
            "test_clips": len(self.test),
            "test_frames": sum(len(v) for v in self.test),
            "abnormal_test_frames": int(
                sum(v.labels.sum() for v in self.test if v.labels is not None)
            ),
            "frame_sizes": sizes,
            "mixed_frame_sizes": len(sizes) > 1,
        }


def write_once(target: str | Path, stamp: str, write: Callable[[Path], None]) -> Path:
    """A generated dataset folder: written by ``write(folder)`` unless ``target`` holds ``stamp``.

    ``stamp`` (kept in ``spec.json``) says what was generated; another stamp regenerates the
    whole folder. ``write`` fills a staging folder that replaces ``target`` only when complete,
    so that an interrupted generation leaves no half dataset behind.
    """
    target = Path(target)
    if (target / "spec.json").is_file() and (target / "spec.json").read_text() == stamp:
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    write(staging)
    (staging / "spec.json").write_text(stamp)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
