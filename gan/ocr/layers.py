"""Keras layers any family may use, registered so that a saved model loads without its family.

`regularity.run.evaluation` imports this module before it loads a run's networks; a family that
builds with these layers needs nothing more for ``model.keras`` to load anywhere.

- `LaplacianSplit`: one Laplacian-pyramid level of every frame, ``(lap, res)``.
- `LearnedPositions`: a learned encoding of the position along the time axis, added.
- `ChannelSelection`: two streams' feature maps reweighted per channel, the two weights of a
  channel summing to 1 (OCR-GAN's channel selection), optionally gated across time.
- `FrameScore`: a per-frame "normal" logit from reconstruction and feature errors.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

PACKAGE = "regularity"

# Burt & Adelson's 5-tap binomial filter, [1 4 6 4 1] / 16 in each direction (OpenCV's pyrDown).
BINOMIAL = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float32) / 256.0


def _frames_of(x: object) -> tuple[object, tuple]:
    """``[..., H, W, C]`` folded to ``[N, H, W, C]``, and the leading shape to unfold with."""
    height, width, channels = x.shape[-3:]
    return ops.reshape(x, (-1, height, width, channels)), tuple(x.shape[1:-3])


@keras.saving.register_keras_serializable(package=PACKAGE)
class LaplacianSplit(layers.Layer):
    """``frames -> (lap, res)``: ``res`` blurred, halved and doubled back; ``lap = frames - res``.

    ``res`` is OpenCV's ``pyrUp(pyrDown(frame))``: the 5x5 binomial Gaussian, every 2nd pixel
    kept (the even ones), zeros put back between them and the same kernel times 4 spread over
    them, all in float (identical to OpenCV's more than 2 pixels inside the frame; at the border
    the down-sampled frame is reflected, OpenCV reflects the up-sampled one). ``lap`` is the
    frame minus ``res`` in float, so ``lap + res`` gives the frame back to float precision (a
    saturating uint8 subtraction would lose every negative detail). Any size (odd too) and any
    leading axes: ``[..., H, W, C]``. A layer without weights, so that training and scoring
    split frames the same way.
    """

    def call(self, frames: object) -> tuple[object, object]:  # noqa: D102
        x, leading = _frames_of(ops.cast(frames, "float32"))
        height, width, channels = x.shape[1:]
        kernel = ops.convert_to_tensor(np.repeat(BINOMIAL[:, :, None, None], channels, axis=2))
        padded = ops.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
        # Valid convolution, stride 2, on the frame padded by 2: sample i is centred on pixel 2i.
        down = ops.depthwise_conv(padded, kernel, strides=2, padding="valid")
        # Up: each sample spreads 4 x kernel around pixel 2i (2i + 4 once padded by one sample).
        spread = np.zeros((5, 5, channels, channels), np.float32)
        for c in range(channels):
            spread[:, :, c, c] = 4 * BINOMIAL
        down = ops.pad(down, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
        up = ops.conv_transpose(down, ops.convert_to_tensor(spread), strides=2, padding="valid")
        res = up[:, 4 : 4 + height, 4 : 4 + width, :]
        lap = x - res
        shape = (-1, *leading, height, width, channels)
        return ops.reshape(lap, shape), ops.reshape(res, shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:  # noqa: D102
        return tuple(input_shape), tuple(input_shape)


def laplacian_split(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lap, res)`` of frames ``[N, H, W, C]`` (any numeric type) as float32 arrays.

    The same computation as the `LaplacianSplit` layer in a model (it is that layer).
    """
    lap, res = LaplacianSplit()(np.asarray(frames, np.float32))
    return np.asarray(lap), np.asarray(res)


@keras.saving.register_keras_serializable(package=PACKAGE)
class LearnedPositions(layers.Layer):
    """Adds a learned vector per position of axis 1 (time): ``[B, T, ..., C]``, broadcast.

    Attention alone cannot tell frame 3 from frame 12; this trained ``[T, C]`` table can.
    """

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        self.positions = self.add_weight(
            shape=(input_shape[1], input_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="positions",
        )

    def call(self, x: object) -> object:  # noqa: D102
        shape = (1, x.shape[1], *[1] * (len(x.shape) - 3), x.shape[-1])
        return x + ops.cast(ops.reshape(self.positions, shape), x.dtype)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ChannelSelection(layers.Layer):
    """Two streams ``[B, T, h, w, c]`` reweighted per channel; returns them and the weights.

    Each frame's descriptor is the spatial mean of the summed streams ``[B, T, c]``; with
    ``temporal_gating`` a 1D convolution over T (kernel 3) gates it by its neighbours in time;
    a bottleneck MLP (``c / reduction`` units) gives two scores a channel, and a softmax across
    the two streams turns them into weights that sum to 1 (``weights[:, :, 0]`` the first
    stream's). Outputs: both streams times their weights, and the weights ``[B, T, 2, c]``.
    """

    def __init__(self, reduction: int = 4, temporal_gating: bool = True, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.reduction, self.temporal_gating = int(reduction), bool(temporal_gating)

    def build(self, input_shape: tuple) -> None:  # noqa: D102
        channels = input_shape[0][-1]
        descriptor = (input_shape[0][0], input_shape[0][1], channels)
        self.gate = None
        dtype = self.dtype_policy
        if self.temporal_gating:
            self.gate = layers.Conv1D(
                channels, 3, padding="same", activation="sigmoid", dtype=dtype
            )
            self.gate.build(descriptor)
        units = max(channels // self.reduction, 4)
        self.squeeze = layers.Dense(units, activation="relu", dtype=dtype)
        self.squeeze.build(descriptor)
        self.scores = layers.Dense(2 * channels, dtype=dtype)
        self.scores.build((*descriptor[:-1], self.squeeze.units))

    def call(self, streams: list) -> tuple:  # noqa: D102
        first, second = streams
        descriptor = ops.mean(first + second, axis=(2, 3))
        if self.gate is not None:
            descriptor = descriptor * self.gate(descriptor)
        scores = self.scores(self.squeeze(descriptor))
        steps, channels = first.shape[1], first.shape[-1]
        weights = ops.softmax(ops.reshape(scores, (-1, steps, 2, channels)), axis=2)
        per_pixel = ops.cast(weights[:, :, :, None, None, :], first.dtype)
        return first * per_pixel[:, :, 0], second * per_pixel[:, :, 1], weights

    def compute_output_shape(self, input_shape: tuple) -> tuple:  # noqa: D102
        first = tuple(input_shape[0])
        return first, first, (first[0], first[1], 2, first[-1])

    def get_config(self) -> dict:  # noqa: D102
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "temporal_gating": self.temporal_gating,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class FrameScore(layers.Layer):
    """``[real, fake, real_features, fake_features] -> [B, T]``: a "normal" logit per frame.

    ``-(reconstruction_weight * mean (fake - real)^2 + feature_weight * mean (f_fake - f_real)^2)``,
    the means per frame over its pixels and over its feature vector: the negative of the
    anomaly score, as a critic's logit is (`regularity.score.scoring.critic_errors` negates
    it back).
    """

    def __init__(
        self, reconstruction_weight: float = 0.9, feature_weight: float = 0.1, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)
        self.reconstruction_weight = float(reconstruction_weight)
        self.feature_weight = float(feature_weight)

    def call(self, tensors: list) -> object:  # noqa: D102
        real, fake, real_features, fake_features = (ops.cast(t, "float32") for t in tensors)
        reconstruction = ops.mean(ops.square(fake - real), axis=(2, 3, 4))
        features = ops.mean(ops.square(fake_features - real_features), axis=-1)
        return -(self.reconstruction_weight * reconstruction + self.feature_weight * features)

    def compute_output_shape(self, input_shape: tuple) -> tuple:  # noqa: D102
        return tuple(input_shape[0][:2])

    def get_config(self) -> dict:  # noqa: D102
        return {
            **super().get_config(),
            "reconstruction_weight": self.reconstruction_weight,
            "feature_weight": self.feature_weight,
        }
