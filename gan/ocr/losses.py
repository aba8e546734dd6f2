"""OCR-GAN Video's temporal loss terms (consistency, Sobel motion edges, attention entropy)."""

from __future__ import annotations

import numpy as np
from keras import ops


def _frame_steps(windows: object) -> object:
    """``[B, T, H, W, C]`` -> the differences of consecutive frames ``[B, T - 1, H, W, C]``."""
    return windows[:, 1:] - windows[:, :-1]


def temporal_consistency_loss(targets: object, predictions: object) -> object:
    """``mean |(Y^_{t+1} - Y^_t) - (Y_{t+1} - Y_t)|`` over windows ``[B, T, H, W, C]``.

    Consecutive generated frames must change as the real ones do: no flicker where the scene
    is still, the real change where it moves.

    >>> still = ops.zeros((1, 3, 2, 2, 1))
    >>> float(temporal_consistency_loss(still, still))
    0.0
    """
    return ops.mean(ops.abs(_frame_steps(predictions) - _frame_steps(targets)))


def sobel_magnitude(frames: object) -> object:
    """Per-channel Sobel gradient magnitude of ``[..., H, W, C]`` (edges stay zero-padded)."""
    height, width, channels = frames.shape[-3:]
    # float32: the epsilon under the square root would vanish in half precision
    flat = ops.reshape(ops.cast(frames, "float32"), (-1, height, width, channels))
    gx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32) / 8.0
    kernel = np.stack([gx, gx.T], axis=-1)[:, :, None, :]  # [3, 3, 1, 2]: x then y
    kernel = np.tile(kernel, (1, 1, channels, 1))
    gradients = ops.depthwise_conv(flat, ops.convert_to_tensor(kernel), 1, "same")
    gradients = ops.reshape(gradients, (-1, height, width, channels, 2))
    magnitude = ops.sqrt(ops.sum(ops.square(gradients), axis=-1) + 1e-12)
    return ops.reshape(magnitude, ops.shape(frames))


def motion_edge_loss(targets: object, predictions: object) -> object:
    """Sobel magnitude of consecutive-frame differences, generated against real, L1.

    Where the real frames move, the edges of that motion must move in the generated frames.

    >>> still = ops.zeros((1, 3, 4, 4, 1))
    >>> float(motion_edge_loss(still, still)) < 1e-5
    True
    """
    real = sobel_magnitude(_frame_steps(targets))
    generated = sobel_magnitude(_frame_steps(predictions))
    return ops.mean(ops.abs(real - generated))


def attention_entropy(scores: object) -> object:
    """Mean entropy of attention rows (softmax over the last axis), divided by log(keys).

    1 for uniform attention, 0 for attention on one frame: lowering it asks for sparse
    attention.

    >>> float(attention_entropy(ops.ones((1, 4, 4)) / 4))
    1.0
    """
    keys = scores.shape[-1]
    scores = ops.cast(scores, "float32")  # log(p + 1e-9) would underflow in half precision
    entropy = -ops.sum(scores * ops.log(scores + 1e-9), axis=-1)
    return ops.mean(entropy) / float(np.log(keys))
