"""Parsing frame-level ground truth: UCSD ``.m`` files, ``ped*.mat`` and Avenue ``volLabel``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import scipy.io

from regularity.errors import GroundTruthError, MissingDataError

_LINE = re.compile(r"gt_frame\s*=\s*\[([^\]]*)\]")
_SPAN = re.compile(r"(\d+)\s*:\s*(\d+)")


def parse_ucsd_m(path: str | Path) -> list[list[tuple[int, int]]]:
    """Abnormal spans per test clip from an official ``UCSDped*.m`` file.

    Each ``TestVideoFile{end+1}.gt_frame = [61:180];`` line gives one clip; a line may hold
    several spans (``[5:90, 140:200]``). Spans are 1-based and inclusive.

    Raises:
        MissingDataError: the file does not exist.
        GroundTruthError: no ``gt_frame`` line could be parsed.

    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(path, "ground-truth file does not exist")
    spans = [
        [(int(a), int(b)) for a, b in _SPAN.findall(body)]
        for body in _LINE.findall(path.read_text(errors="replace"))
    ]
    if not spans:
        raise GroundTruthError(path, "no 'gt_frame = [a:b]' line found")
    return spans


def parse_span_mat(path: str | Path, key: str = "gt") -> list[list[tuple[int, int]]]:
    """Abnormal spans per test clip from a ``ped2.mat``-style file (cells of 2 x k start/end)."""
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(path, "ground-truth file does not exist")
    try:
        cells = scipy.io.loadmat(path)[key]
    except (KeyError, ValueError, OSError) as err:
        raise GroundTruthError(path, f"cannot read the '{key}' cell array ({err})") from err
    spans = []
    for cell in np.ravel(cells):
        starts_ends = np.asarray(cell, dtype=int).reshape(2, -1)
        spans.append([(int(a), int(b)) for a, b in starts_ends.T])
    return spans


def spans_to_labels(spans: list[tuple[int, int]], n_frames: int, source: str | Path) -> np.ndarray:
    """Frame labels from 1-based inclusive spans; a span past the clip's end is an error.

    >>> spans_to_labels([(2, 3)], 4, "gt.m").tolist()
    [False, True, True, False]
    """
    labels = np.zeros(n_frames, dtype=bool)
    for start, end in spans:
        if start < 1 or end > n_frames or start > end:
            raise GroundTruthError(
                source, f"span {start}:{end} does not fit the clip's {n_frames} frames"
            )
        labels[start - 1 : end] = True
    return labels


def labels_to_spans(labels: np.ndarray) -> list[tuple[int, int]]:
    """1-based inclusive spans of the True runs of frame labels (inverse of `spans_to_labels`).

    >>> labels_to_spans(np.array([0, 1, 1, 0, 1], bool))
    [(2, 3), (5, 5)]
    """
    edges = np.flatnonzero(np.diff(np.r_[0, np.asarray(labels, int), 0]))
    return [(int(a) + 1, int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def read_vol_label(path: str | Path) -> np.ndarray:
    """Avenue pixel masks from ``N_label.mat`` (``volLabel``: one H x W array per frame)."""
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(path, "ground-truth file does not exist")
    try:
        cells = np.ravel(scipy.io.loadmat(path)["volLabel"])
    except (KeyError, ValueError, OSError) as err:
        raise GroundTruthError(path, f"cannot read 'volLabel' ({err})") from err
    return np.stack([np.asarray(c) > 0 for c in cells])
