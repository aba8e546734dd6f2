"""Losses of frame predictors (Mathieu et al. 2016; Liu et al. 2018), backend-agnostic.

Every function takes ``[..., H, W, C]`` tensors (a batch of frames, or of windows of frames) and
returns one scalar: the mean over everything, so that the terms keep comparable sizes whatever
the frame size.
"""

from __future__ import annotations

import numpy as np
from keras import ops


def intensity_loss(targets: object, predictions: object) -> object:
    """Mean squared difference of the pixels (Mathieu's L2 term).

    >>> float(intensity_loss(ops.zeros((1, 2, 2, 1)), ops.ones((1, 2, 2, 1))))
    1.0
    """
    return ops.mean(ops.square(predictions - targets))


def _gradients(frames: object) -> tuple[object, object]:
    """Absolute differences between vertical and horizontal neighbours."""
    vertical = ops.abs(frames[..., 1:, :, :] - frames[..., :-1, :, :])
    horizontal = ops.abs(frames[..., :, 1:, :] - frames[..., :, :-1, :])
    return vertical, horizontal


def gradient_difference_loss(targets: object, predictions: object, alpha: float = 1.0) -> object:
    """Mathieu et al.'s gradient difference loss: ``| |grad Y| - |grad Y^| |^alpha``, averaged.

    It is zero when the prediction has the target's edges wherever they are, and grows as the
    prediction blurs them: the term that keeps L2-trained predictions sharp.

    >>> frames = ops.convert_to_tensor([[[[0.0], [1.0]], [[1.0], [0.0]]]])
    >>> float(gradient_difference_loss(frames, frames))
    0.0
    >>> float(gradient_difference_loss(frames, ops.zeros_like(frames)))  # both directions
    2.0
    """
    true_v, true_h = _gradients(targets)
    pred_v, pred_h = _gradients(predictions)
    vertical = ops.mean(ops.abs(true_v - pred_v) ** alpha)
    horizontal = ops.mean(ops.abs(true_h - pred_h) ** alpha)
    return vertical + horizontal


def motion_loss(previous: object, targets: object, predictions: object) -> object:
    """A motion term without a flow network: the predicted frame difference against the real.

    ``mean |(Y^ - X_last) - (Y - X_last)|`` would be L1 on the frames; the absolute differences
    are compared instead, so that the term asks for motion of the right size where the real
    frame moved, as Liu et al.'s optical-flow loss does without FlowNet.

    >>> still = ops.zeros((1, 2, 2, 1))
    >>> float(motion_loss(still, ops.ones((1, 2, 2, 1)), still))
    1.0
    """
    real = ops.abs(targets - previous)
    predicted = ops.abs(predictions - previous)
    return ops.mean(ops.abs(real - predicted))


def ssim(real: object, predicted: object, max_val: float = 1.0) -> object:
    """Each frame's SSIM ``[N]`` for frames ``[N, H, W, C]``, on any backend.

    As ``tf.image.ssim``: Wang et al.'s 11 x 11 Gaussian window (sigma 1.5) over each channel,
    VALID (no border padding), ``k1 = 0.01``, ``k2 = 0.03``; the map's mean over positions and
    channels. (Unlike `intensity_loss` it returns one value a frame, not one scalar.)
    """
    channels = real.shape[-1]
    taps = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    taps /= taps.sum()
    kernel = np.tile(np.outer(taps, taps)[:, :, None, None], (1, 1, channels, 1))
    kernel = ops.convert_to_tensor(kernel.astype("float32"))

    def blur(x: object) -> object:
        return ops.depthwise_conv(x, kernel, strides=1, padding="valid")

    c1, c2 = (0.01 * max_val) ** 2, (0.03 * max_val) ** 2
    mean_real, mean_predicted = blur(real), blur(predicted)
    product = mean_real * mean_predicted
    squares = ops.square(mean_real) + ops.square(mean_predicted)
    luminance = (2.0 * product + c1) / (squares + c1)
    variances = blur(ops.square(real) + ops.square(predicted)) - squares
    structure = (2.0 * (blur(real * predicted) - product) + c2) / (variances + c2)
    return ops.mean(luminance * structure, axis=(1, 2, 3))
