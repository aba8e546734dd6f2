"""Red dots where a frame and its reconstruction (or prediction) differ."""

from __future__ import annotations

from enum import Enum

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from regularity.show.media import to_rgb

RED = (255, 0, 0)


class DotLayout(str, Enum):
    """Where dots go inside an irregular region."""

    GRID = "grid"  # one dot per grid cell whose smoothed error passes the threshold
    REGIONS = "regions"  # one dot at the centre of each connected irregular region


def smooth_error_map(error_map: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """Gaussian-smoothed error map: isolated noisy pixels do not make dots (sigma 0: as is).

    ``[H, W]`` or a stack ``[N, H, W]``, each map smoothed on its own (one call, not a loop).
    """
    error_map = np.asarray(error_map, np.float32)
    if sigma <= 0:
        return error_map
    return gaussian_filter(error_map, (0,) * (error_map.ndim - 2) + (sigma, sigma))


def find_dots(
    smoothed: np.ndarray,
    threshold: float,
    layout: DotLayout | str = DotLayout.GRID,
    cell: int = 8,
) -> np.ndarray:
    """Dot positions ``[K, 2]`` (row, col) on the error map's own grid."""
    above = smoothed > threshold
    if not above.any():
        return np.zeros((0, 2), int)
    if DotLayout(layout) is DotLayout.REGIONS:
        n, _, _, centroids = cv2.connectedComponentsWithStats(above.astype(np.uint8))
        return np.round(centroids[1:, ::-1]).astype(int)
    h, w = smoothed.shape
    rows, cols = np.mgrid[cell // 2 : h : cell, cell // 2 : w : cell]
    keep = above[rows, cols]
    return np.stack([rows[keep], cols[keep]], axis=1)


def spot_irregularity(
    frame: np.ndarray,
    error_map: np.ndarray,
    threshold: float,
    sigma: float = 2.0,
    layout: DotLayout | str = DotLayout.GRID,
    cell: int = 8,
    radius: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Mark irregular motion with red dots on the original frame.

    Args:
        frame: the original frame, any resolution, grey or RGB uint8.
        error_map: ``D_t`` at the model's resolution.
        threshold: on the smoothed error map; it comes from normal frames (e.g. a high
            percentile of their smoothed errors), never from test labels.
        sigma: Gaussian smoothing of the error map, in model pixels (0 for a map already
            smoothed with `smooth_error_map`).
        layout: `DotLayout.GRID` (dots fill the region) or `DotLayout.REGIONS` (one per region).
        cell: grid spacing in model pixels.
        radius: dot radius in original pixels.

    Returns:
        The marked RGB frame and the dots ``[K, 2]`` (row, col) in original pixels.

    """
    marked = to_rgb(np.asarray(frame)[None])[0].copy()
    dots = find_dots(smooth_error_map(error_map, sigma), threshold, layout, cell)
    scale = np.array(marked.shape[:2]) / np.array(error_map.shape[:2])
    dots = np.minimum(((dots + 0.5) * scale).astype(int), np.array(marked.shape[:2]) - 1)
    for row, col in dots:
        cv2.circle(marked, (int(col), int(row)), radius, RED, -1)
    return marked, dots
