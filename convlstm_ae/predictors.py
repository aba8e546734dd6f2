"""Frame predictors beside the autoencoder: the U-Net skip-connection predictor.

`build_unet_predictor` is Liu et al. 2018's generator: k frames stacked along the channels, an
encoder of [32, 64, 128, 256, 512] feature maps, a decoder back up with a skip connection from
each encoder level to the decoder level of the same size, and the next frame out (tanh, for
inputs scaled to [-1, 1]). k = 1 is the seeds' "next frame from the current frame".
"""

from __future__ import annotations

import keras
from keras import layers

UNET_FILTERS = (32, 64, 128, 256, 512)


def _double_conv(x: keras.KerasTensor, filters: int, name: str, dtype: object) -> keras.KerasTensor:
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv{i}", dtype=dtype)(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}", dtype=dtype)(x)
        x = layers.ReLU(name=f"{name}_relu{i}", dtype=dtype)(x)
    return x


def build_unet_predictor(
    input_shape: tuple[int, int, int, int],
    filters: tuple[int, ...] = UNET_FILTERS,
    output_activation: str | None = "tanh",
    dtype_policy: str | None = None,
) -> keras.Model:
    """The U-Net predictor: windows ``[B, k, H, W, C]`` -> the next frame ``[B, H, W, C]``.

    Args:
        input_shape: (k, H, W, C); H and W divisible by ``2 ** (len(filters) - 1)``.
        filters: feature maps per level, finest first.
        output_activation: "tanh" for [-1, 1] inputs, "sigmoid" for [0, 1], None otherwise.
        dtype_policy: e.g. "mixed_bfloat16"; the output stays float32.

    """
    frames, height, width, channels = input_shape
    step = 2 ** (len(filters) - 1)
    if height % step or width % step:
        raise ValueError(
            f"frame size {height}x{width} must be divisible by {step} for {len(filters)} levels"
        )
    dtype = dtype_policy
    inputs = keras.Input((frames, height, width, channels), name="frames")
    # The k frames side by side along the channels: the first convolution sees them together.
    x = layers.Permute((2, 3, 1, 4), name="frames_last")(inputs)
    x = layers.Reshape((height, width, frames * channels), name="stacked")(x)
    skips = []
    for level, n in enumerate(filters[:-1], start=1):
        x = _double_conv(x, n, f"down{level}", dtype)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}", dtype=dtype)(x)
    x = _double_conv(x, filters[-1], "bottom", dtype)
    for level, (n, skip) in enumerate(zip(filters[-2::-1], skips[::-1], strict=True), start=1):
        x = layers.Conv2DTranspose(n, 2, strides=2, name=f"up{level}_deconv", dtype=dtype)(x)
        x = layers.Concatenate(name=f"up{level}_skip", dtype=dtype)([x, skip])
        x = _double_conv(x, n, f"up{level}", dtype)
    outputs = layers.Conv2D(
        channels, 1, activation=output_activation, name="next_frame", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name="unet_predictor")
