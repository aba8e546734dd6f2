"""Multi-scale frame predictor and discriminator (Mathieu, Couprie & LeCun, ICLR 2016).

Work in progress for issue 18: the networks only (the trainer, recipes and evaluation follow).

The k input frames are stacked on the channel axis. The generator has one stage per scale,
coarsest first; each scale is the frame size divided by a power of two (``divisors``, e.g.
(16, 4, 2, 1): 4x4, 16x16, 32x32 and 64x64 for 64x64 frames). Stage 1 predicts the smallest
frame from the smallest input; every later stage sees its resized input concatenated with the
previous stage's prediction upsampled to its size, and predicts a correction to that upsampled
prediction (Mathieu et al.'s ``Y_k = u(Y_{k-1}) + G'_k(X_k, u(Y_{k-1}))``). Every layer is a
convolution and the resizing is pooling / upsampling by fixed factors, so a generator trained on
patches predicts whole frames of any size divisible by the largest divisor.
"""

from __future__ import annotations

import keras
from keras import layers

# Mathieu et al.'s generator (feature maps, kernel sizes) and discriminator (convolutions,
# kernel sizes, fully connected sizes) per scale, coarsest first, for their four scales.
GENERATOR_STAGES = (
    ((128, 256, 128), (3, 3, 3, 3)),
    ((128, 256, 128), (5, 3, 3, 5)),
    ((256, 512, 256), (5, 3, 3, 5)),
    ((128, 256, 512, 256, 128), (7, 5, 5, 5, 5, 7)),
)
DISCRIMINATOR_STAGES = (
    ((64,), (3,), (512, 256)),
    ((64, 128, 128), (3, 3, 3), (1024, 512)),
    ((128, 256, 256), (5, 5, 5), (1024, 512)),
    ((128, 256, 512, 128), (7, 7, 5, 5), (1024, 512)),
)


def _check(divisors: tuple[int, ...], stages: tuple) -> None:
    if len(divisors) != len(stages):
        raise ValueError(f"{len(divisors)} scales but {len(stages)} stages")
    if list(divisors) != sorted(divisors, reverse=True) or divisors[-1] != 1:
        raise ValueError(f"divisors must fall to 1, coarsest first: {divisors}")


def build_multiscale_generator(
    frames: int,
    channels: int,
    divisors: tuple[int, ...] = (16, 4, 2, 1),
    stages: tuple = GENERATOR_STAGES,
) -> keras.Model:
    """``[B, H, W, frames * channels]`` -> one predicted frame per scale, coarsest first.

    Args:
        frames: k, the input frames stacked on the channel axis.
        channels: channels of one frame.
        divisors: each scale's size as the full size divided by this, coarsest first, ending in 1.
        stages: per scale, (feature maps, kernel sizes) with one kernel more than feature maps
            (the last convolution gives the frame).

    """
    _check(divisors, stages)
    stacked = keras.Input((None, None, frames * channels), name="stacked_frames")
    predictions, previous = [], None
    for scale, (divisor, (filters, kernels)) in enumerate(zip(divisors, stages, strict=True), 1):
        x = stacked
        if divisor > 1:
            x = layers.AveragePooling2D(divisor, name=f"g{scale}_input")(stacked)
        if previous is not None:
            factor = divisors[scale - 2] // divisor
            previous = layers.UpSampling2D(
                factor, interpolation="bilinear", name=f"g{scale}_upsampled"
            )(previous)
            x = layers.Concatenate(name=f"g{scale}_with_previous")([x, previous])
        for i, (n, kernel) in enumerate(zip(filters, kernels, strict=False), 1):
            x = layers.Conv2D(
                n, kernel, padding="same", activation="relu", name=f"g{scale}_conv{i}"
            )(x)
        x = layers.Conv2D(channels, kernels[-1], padding="same", name=f"g{scale}_frame")(x)
        if previous is not None:
            x = layers.Add(name=f"g{scale}_correction")([previous, x])
        previous = layers.Activation("tanh", name=f"g{scale}_prediction")(x)
        predictions.append(previous)
    return keras.Model(stacked, predictions, name="multiscale_generator")


def build_multiscale_discriminator(
    size: tuple[int, int],
    frames: int,
    channels: int,
    divisors: tuple[int, ...] = (16, 4, 2, 1),
    stages: tuple = DISCRIMINATOR_STAGES,
) -> keras.Model:
    """Per scale: the input frames and a (real or predicted) next frame -> one real/fake logit.

    Inputs: the stacked input frames at full size ``[B, H, W, frames * channels]`` and one next
    frame per scale, coarsest first. Each scale's network: convolutions (ReLU, the last with
    stride 2 where the scale allows), then fully connected layers ending in one value (a logit).
    Trained on fixed-size patches: ``size`` is the patch size.
    """
    _check(divisors, stages)
    height, width = size
    stacked = keras.Input((height, width, frames * channels), name="stacked_frames")
    nexts = [
        keras.Input((height // d, width // d, channels), name=f"next_frame_{i}")
        for i, d in enumerate(divisors, 1)
    ]
    logits = []
    for scale, (divisor, frame, (filters, kernels, dense)) in enumerate(
        zip(divisors, nexts, stages, strict=True), 1
    ):
        x = stacked
        if divisor > 1:
            x = layers.AveragePooling2D(divisor, name=f"d{scale}_input")(stacked)
        x = layers.Concatenate(name=f"d{scale}_sequence")([x, frame])
        for i, (n, kernel) in enumerate(zip(filters, kernels, strict=True), 1):
            last_with_room = i == len(filters) and min(height, width) // divisor >= 8
            x = layers.Conv2D(n, kernel, strides=2 if last_with_room else 1, padding="same",
                              activation="relu", name=f"d{scale}_conv{i}")(x)  # fmt: skip
        x = layers.Flatten(name=f"d{scale}_flat")(x)
        for i, n in enumerate(dense, 1):
            x = layers.Dense(n, activation="relu", name=f"d{scale}_fc{i}")(x)
        logits.append(layers.Dense(1, name=f"d{scale}_logit")(x))
    return keras.Model([stacked, *nexts], logits, name="multiscale_discriminator")
