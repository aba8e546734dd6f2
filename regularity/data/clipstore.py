"""Prepared uint8 clips that training windows gather from: in memory, or in one file on disk.

A store holds many clips laid end to end and answers ``gather(indices)`` with the frames at
those global indices. `DiskClips` reads each batch's frames from a file with ``os.pread``, so a
training run's memory does not grow with the dataset (UCF-101 does not fit in memory); it is
written clip by clip, so neither does building it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


class _Clips:
    """What both stores share: clips laid end to end, read back one at a time."""

    lengths: list[int]

    def clip(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` (global indices) of the store."""
        return self.gather(np.arange(start, stop))

    def clips(self) -> Iterator[np.ndarray]:
        """Each clip in turn."""
        stops = np.cumsum(self.lengths)
        for start, stop in zip(stops - self.lengths, stops, strict=True):
            yield self.clip(int(start), int(stop))


class MemoryClips(_Clips):
    """Clips held in memory (small datasets and tests).

    >>> store = MemoryClips([np.zeros((2, 1, 1, 1), np.uint8), np.ones((3, 1, 1, 1), np.uint8)])
    >>> store.lengths, store.gather(np.array([[1, 2]])).ravel().tolist()
    ([2, 3], [0, 1])
    """

    def __init__(self, clips: Sequence[np.ndarray]) -> None:
        self.lengths = [len(c) for c in clips]
        self.frames = np.concatenate(clips) if len(clips) > 1 else np.asarray(clips[0])
        self.frame_shape = tuple(self.frames.shape[1:])

    def gather(self, indices: np.ndarray) -> np.ndarray:
        """Frames at global indices, ``indices.shape + frame_shape``."""
        return self.frames[np.asarray(indices)]

    def clip(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop``: a view, no copy."""
        return self.frames[start:stop]


class DiskClips(_Clips):
    """Clips in one raw uint8 file (``frames.u8``) beside ``clips.json`` (lengths, frame shape)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        index = json.loads((self.folder / "clips.json").read_text())
        self.lengths = index["lengths"]
        self.frame_shape = tuple(index["frame_shape"])
        self.frame_bytes = int(np.prod(self.frame_shape))
        self._fd = os.open(self.folder / "frames.u8", os.O_RDONLY)

    @classmethod
    def write(cls, folder: str | Path, clips: Iterable[np.ndarray]) -> DiskClips:
        """Write clips one at a time (each may be released once written) and open the store."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        lengths, shape = [], None
        partial = folder / "frames.u8.part"
        with partial.open("wb") as f:
            for clip in clips:
                clip = np.ascontiguousarray(clip, np.uint8)
                if shape is not None and clip.shape[1:] != shape:
                    raise ValueError(
                        f"{folder}: clips of one store must share a frame shape, "
                        f"got {clip.shape[1:]} after {shape}"
                    )
                shape = clip.shape[1:]
                f.write(clip.tobytes())
                lengths.append(len(clip))
        if shape is None:
            raise ValueError(f"{folder}: no clips to store")
        partial.replace(folder / "frames.u8")
        (folder / "clips.json").write_text(
            json.dumps({"lengths": lengths, "frame_shape": list(shape)})
        )
        logger.info("cached %d clips (%d frames) in %s", len(lengths), sum(lengths), folder)
        return cls(folder)

    def gather(self, indices: np.ndarray) -> np.ndarray:
        """Frames at global indices, read from disk: ``indices.shape + frame_shape``.

        Each run of consecutive frames is one read, and a frame that several windows of the
        batch share is read once.
        """
        indices = np.asarray(indices)
        frames, where = np.unique(indices, return_inverse=True)
        out = np.empty((len(frames), self.frame_bytes), np.uint8)
        for run in np.split(np.arange(len(frames)), np.flatnonzero(np.diff(frames) != 1) + 1):
            first, count = int(frames[run[0]]), len(run)
            data = os.pread(self._fd, count * self.frame_bytes, first * self.frame_bytes)
            out[run[0] : run[0] + count] = np.frombuffer(data, np.uint8).reshape(count, -1)
        return out[where.reshape(indices.shape)].reshape(*indices.shape, *self.frame_shape)

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass


def build_store(
    clips: Iterable[np.ndarray], cache: str | Path | None = None
) -> MemoryClips | DiskClips:
    """A store of prepared clips: on disk under ``cache`` when given, else in memory."""
    if cache is None:
        return MemoryClips(list(clips))
    return DiskClips.write(cache, clips)


def prepared_clips(videos: Iterable, prepare: Callable[[np.ndarray], np.ndarray]) -> Iterator:
    """Each video's frames prepared, the decoded original released as soon as it is used."""
    for video in videos:
        clip = prepare(video.frames)
        video.release()
        yield clip
