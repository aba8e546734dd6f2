"""One Laplacian-pyramid level of a frame: a low-frequency residual and its detail (WIP #19).

``res`` is the frame blurred by the 5x5 binomial Gaussian (Burt & Adelson's [1 4 6 4 1] / 16 in
each direction), down-sampled by 2 and up-sampled back (OpenCV's ``pyrDown`` then ``pyrUp``,
reflected borders); ``lap = frame - res`` in float, so that ``lap + res`` gives the frame back
to float precision (a saturating uint8 subtraction would not: negative details would be lost).
"""

from __future__ import annotations

import cv2
import numpy as np


def laplacian_split(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lap, res)`` of frames ``[N, H, W]`` or ``[N, H, W, C]`` (any numeric type), float32.

    Frames keep their size and aspect ratio (odd sizes too: ``pyrUp`` is given the frame's).
    """
    frames = np.asarray(frames, np.float32)
    height, width = frames.shape[1:3]
    res = np.stack([cv2.pyrUp(cv2.pyrDown(f), dstsize=(width, height)) for f in frames])
    res = res.reshape(frames.shape)  # cv2 drops a single channel axis
    return frames - res, res
