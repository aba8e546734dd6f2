"""Liu et al. 2018's predictor: the U-Net generator and its optional frame discriminator.

`build_unet_predictor`: k frames stacked along the channels, an encoder of [32, 64, 128, 256,
512] feature maps, a decoder back up with a skip connection from each encoder level to the
decoder level of the same size, and the next frame out (tanh, for inputs scaled to [-1, 1]).
k = 1 is the seeds' "next frame from the current frame". `build_frame_discriminator` is their
optional adversary (least squares, `regularity.nets.prediction.PredictionTrainer`).
"""

from __future__ import annotations

import keras
from keras import layers

from regularity.nets.prediction import stack_frames

UNET_FILTERS = (32, 64, 128, 256, 512)


def _double_conv(x: keras.KerasTensor, filters: int, name: str, dtype: object) -> keras.KerasTensor:
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv{i}", dtype=dtype)(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}", dtype=dtype)(x)
        x = layers.ReLU(name=f"{name}_relu{i}", dtype=dtype)(x)
    return x


def build_unet_predictor(
    input_shape: tuple[int, int, int, int],
    *,
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
    x = stack_frames(inputs)
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


def build_frame_discriminator(
    frame_shape: tuple[int, int, int], *, filters: tuple[int, ...] = (64, 128, 256, 512)
) -> keras.Model:
    """Liu et al.'s PatchGAN: a frame ``[B, H, W, C]`` -> one real/fake value per patch.

    Conv 4x4 (stride 2 but the last), LeakyReLU 0.2, batch normalisation from the second; a
    final 4x4 convolution to one channel, left linear for the least-squares adversarial loss.
    """
    frame = keras.Input(frame_shape, name="frame")
    x = frame
    for level, n in enumerate(filters, start=1):
        stride = 2 if level < len(filters) else 1
        x = layers.Conv2D(n, 4, strides=stride, padding="same", name=f"d_conv{level}")(x)
        if level > 1:
            x = layers.BatchNormalization(name=f"d_bn{level}")(x)
        x = layers.LeakyReLU(0.2, name=f"d_lrelu{level}")(x)
    patches = layers.Conv2D(1, 4, padding="same", name="d_patches", dtype="float32")(x)
    return keras.Model(frame, patches, name="frame_discriminator")
