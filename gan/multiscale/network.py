"""Multi-scale frame predictor and discriminator (Mathieu, Couprie & LeCun, ICLR 2016).

The k input frames are stacked on the channel axis. The generator has one stage per scale,
coarsest first; each scale is the frame size divided by a power of two (``divisors``, e.g.
(8, 4, 2, 1): 4x4, 8x8, 16x16 and 32x32 for Mathieu's 32x32 patches). Stage 1 predicts the
smallest frame from the smallest input; every later stage sees its resized input concatenated
with the previous stage's prediction upsampled to its size, and adds a correction to that
upsampled prediction before its own tanh: ``Y_k = tanh(u(Y_{k-1}) + G'_k(X_k, u(Y_{k-1})))``
(Mathieu et al. write ``u(Y_{k-1}) + G'_k``; the tanh keeps every scale in [-1, 1], and a stage
must learn to undo its squashing of the coarser prediction, which it does: the ablation's L2 +
GDL generator beats copy-last-frame by 5 dB on moving pixels). Every layer is a convolution and
the resizing is pooling / upsampling by fixed factors, so the generator trained on patches
predicts whole frames of any size divisible by the largest divisor.

`MultiscaleTrainer` trains it on Mathieu's loss: at every scale L2 and the gradient difference
loss (summed over scales), plus the adversarial term of the multi-scale discriminator.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from regularity.nets.adversarial import adversarial_terms
from regularity.nets.losses import gradient_difference_loss, intensity_loss, motion_loss
from regularity.nets.prediction import PredictionTrainer

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


def check_divisors(divisors: tuple[int, ...], stages: tuple) -> None:
    """One divisor per stage, each dividing the one before, falling to 1 (full size)."""
    if len(divisors) != len(stages):
        raise ValueError(f"{len(divisors)} scales but {len(stages)} stages: one per stage")
    falling = all(a > b and a % b == 0 for a, b in zip(divisors, divisors[1:], strict=False))
    if not falling or divisors[-1] != 1:
        raise ValueError(
            f"divisors must fall to 1, coarsest first, each dividing the one before: {divisors}"
        )


def build_multiscale_generator(
    frames: int,
    channels: int,
    *,
    divisors: tuple[int, ...] = (8, 4, 2, 1),
    stages: tuple = GENERATOR_STAGES,
    dtype_policy: str | None = None,
) -> keras.Model:
    """``[B, H, W, frames * channels]`` -> one predicted frame per scale, coarsest first.

    Args:
        frames: k, the input frames stacked on the channel axis.
        channels: channels of one frame.
        divisors: each scale's size as the full size divided by this, coarsest first, ending in 1.
        stages: per scale, (feature maps, kernel sizes) with one kernel more than feature maps
            (the last convolution gives the frame).
        dtype_policy: e.g. "mixed_bfloat16"; the predictions stay float32.

    """
    check_divisors(divisors, stages)
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
            x = layers.Conv2D(n, kernel, padding="same", activation="relu",
                              name=f"g{scale}_conv{i}", dtype=dtype_policy)(x)  # fmt: skip
        x = layers.Conv2D(channels, kernels[-1], padding="same", name=f"g{scale}_frame",
                          dtype="float32")(x)  # fmt: skip
        if previous is not None:
            x = layers.Add(name=f"g{scale}_correction")([previous, x])
        previous = layers.Activation("tanh", name=f"g{scale}_prediction")(x)
        predictions.append(previous)
    return keras.Model(stacked, predictions, name="multiscale_generator")


def build_multiscale_discriminator(
    size: tuple[int, int],
    frames: int,
    channels: int,
    *,
    divisors: tuple[int, ...] = (8, 4, 2, 1),
    stages: tuple = DISCRIMINATOR_STAGES,
) -> keras.Model:
    """Per scale: the input frames and a (real or predicted) next frame -> one real/fake logit.

    Inputs: the stacked input frames at full size ``[B, H, W, frames * channels]`` and one next
    frame per scale, coarsest first. Each scale's network: convolutions (ReLU, the last with
    stride 2 where the scale allows), then fully connected layers ending in one value (a logit).
    Trained on fixed-size patches: ``size`` is the patch size.
    """
    check_divisors(divisors, stages)
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


def narrower(stages: tuple, width: float) -> tuple:
    """Mathieu's stages, every feature map and fully connected size times ``width``.

    Kernel sizes are kept: their networks at a size a CPU can train.
    """

    def scaled(sizes: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(max(1, round(n * width)) for n in sizes)

    return tuple((scaled(stage[0]), stage[1], *(scaled(s) for s in stage[2:])) for stage in stages)


def stacked_frames(windows: object) -> object:
    """``[B, k, H, W, C]`` -> ``[B, H, W, k * C]`` on tensors (`stack_frames` on layers)."""
    frames, height, width, channels = windows.shape[1:]
    stacked = ops.transpose(windows, (0, 2, 3, 1, 4))
    return ops.reshape(stacked, (-1, height, width, frames * channels))


class MultiscaleTrainer(PredictionTrainer):
    """Mathieu et al.'s training: every scale's prediction against the target pooled to its size.

    ``loss = intensity_weight * sum_s L2_s + gradient_weight * sum_s GDL_s
    [+ motion_weight * motion] [+ adversarial_weight * sum_s BCE(D_s(X, G_s(X)), real)]``;
    the discriminator minimises ``sum_s BCE(D_s(X, Y_s), real) + BCE(D_s(X, G_s(X)), fake)``.
    Each scale's terms are logged as ``scale<i>_<term>`` (``scale1`` the coarsest; terms
    ``intensity``, ``gradient``, ``adversarial``, ``discriminator``, each plotted per scale in
    ``loss_<term>.png``), their sums as ``intensity_loss``, ``gradient_loss``,
    ``adversarial_loss`` and ``d_loss`` (in ``loss.png``). Batches are
    windows ``[B, k, h, w, C]`` -> next frames ``[B, h, w, C]``, patches or whole frames; the
    motion term is the finest scale's (`regularity.nets.losses.motion_loss`).
    """

    def __init__(
        self,
        generator: keras.Model,
        scoring_model: keras.Model,
        *,
        divisors: tuple[int, ...],
        discriminator: keras.Model | None = None,
        **loss_weights: float,
    ) -> None:
        """``loss_weights``: `PredictionTrainer`'s (intensity, gradient, motion, adversarial)."""
        super().__init__(generator, scoring_model, discriminator=discriminator, **loss_weights)
        self.divisors = tuple(divisors)
        self.kinds = ["intensity", "gradient"]
        if discriminator is not None:
            self.kinds += ["adversarial", "discriminator"]
        for scale in range(1, len(self.divisors) + 1):
            for kind in self.kinds:
                name = f"scale{scale}_{kind}"
                self.trackers[name] = keras.metrics.Mean(name=name)

    @property
    def history_plots(self) -> dict:
        """Per-scale curves beside ``loss.png``'s totals: ``loss_<term>.png``, a line a scale."""
        scales = range(1, len(self.divisors) + 1)
        plots = {}
        for kind in self.kinds:
            columns = [f"{prefix}scale{s}_{kind}" for prefix in ("", "val_") for s in scales]
            plots[f"loss_{kind}.png"] = (f"{kind}, per scale (1: coarsest)", columns)
        return plots

    def call(self, inputs: object, training: bool = False) -> object:  # noqa: D102
        return self.network(stacked_frames(inputs), training=training)[-1]

    def losses_of(self, inputs: object, targets: object, training: bool) -> dict:
        """The total loss, its terms summed over scales, and each scale's terms."""
        inputs, targets = ops.convert_to_tensor(inputs), ops.convert_to_tensor(targets)
        stacked = stacked_frames(inputs)
        predictions = self.network(stacked, training=training)
        real = [targets if d == 1 else ops.average_pool(targets, d, d) for d in self.divisors]
        per_scale = {
            "intensity": [intensity_loss(y, p) for y, p in zip(real, predictions, strict=True)],
            "gradient": [
                gradient_difference_loss(y, p) for y, p in zip(real, predictions, strict=True)
            ],
        }
        if self.discriminator is not None:
            real_logits = self.discriminator([stacked, *real], training=training)
            fake_logits = self.discriminator([stacked, *predictions], training=training)
            pairs = [adversarial_terms(r, f) for r, f in zip(real_logits, fake_logits, strict=True)]
            per_scale["adversarial"] = [g for g, _ in pairs]
            per_scale["discriminator"] = [d for _, d in pairs]
        totals = {"intensity": "intensity_loss", "gradient": "gradient_loss",
                  "adversarial": "adversarial_loss", "discriminator": "d_loss"}  # fmt: skip
        terms = {"motion_loss": motion_loss(inputs[:, -1], targets, predictions[-1])}
        for kind, values in per_scale.items():
            terms[totals[kind]] = sum(values)
            terms.update({f"scale{s}_{kind}": v for s, v in enumerate(values, 1)})
        terms["loss"] = self.weighted_sum(terms)
        return terms
