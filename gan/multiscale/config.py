"""The multi-scale GAN predictor as a family of the run pipeline: config, patches, builder.

A frame predictor (`regularity.nets.prediction`: the same windows, [-1, 1] scaling, PSNR score,
evaluation and detection) whose network is Mathieu et al.'s multi-scale generator, trained on
random patches and scored on whole frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras
import numpy as np

from gan.multiscale.network import (
    DISCRIMINATOR_STAGES,
    GENERATOR_STAGES,
    MultiscaleTrainer,
    build_multiscale_discriminator,
    build_multiscale_generator,
    check_divisors,
    narrower,
)
from gan.multiscale.recipes import MULTISCALE_RECIPES
from regularity.data.windows import Target, WindowSpec
from regularity.nets.prediction import PredictorConfig, compile_predictor, stack_frames


@dataclass
class MultiscaleConfig(PredictorConfig):
    """The predictors' config plus the scales, the training patches and the networks' width."""

    recipes: ClassVar[dict[str, dict]] = MULTISCALE_RECIPES

    model: str = "multiscale_gan"
    run_dir: str = "runs/multiscale_gan"
    window: WindowSpec = WindowSpec(Target.NEXT, inputs=4)
    # Each scale is the frame (or patch) divided by these, coarsest first: Mathieu's 4, 8, 16
    # and 32 pixels on 32x32 patches.
    divisors: tuple[int, ...] = (8, 4, 2, 1)
    patch_size: int = 32  # square training patches (0: whole frames)
    # Patches are drawn where the next frame moved (Mathieu et al. keep patches with enough
    # motion): a patch's chance is its mean |Y - X_last| plus this share of the batch's mean.
    patch_floor: float = 0.1
    width: float = 1.0  # times every feature map of Mathieu's networks
    adversarial_weight: float = 0.05  # Mathieu's lambda_adv against L2 and GDL at 1
    d_learning_rate: float = 1e-4

    def validate(self) -> None:
        """Scales, patch and width, before any data is loaded."""
        self.divisors = tuple(int(d) for d in self.divisors)
        super().validate()
        check_divisors(self.divisors, GENERATOR_STAGES)
        if self.scaling != "symmetric":
            raise ValueError("the generator ends in tanh: scaling must be 'symmetric'")
        if self.patch_size < 0 or (
            self.patch_size
            and (self.patch_size % self.size_step() or self.patch_size > min(self.size))
        ):
            raise ValueError(
                f"patch_size {self.patch_size} must be a multiple of {self.size_step()} and fit "
                f"in the frame {self.size}"
            )
        if self.width <= 0 or self.patch_floor < 0:
            raise ValueError("width must be > 0 and patch_floor >= 0")

    def size_step(self) -> int:  # noqa: D102
        return max(self.divisors)

    def batch_transform(self) -> object:
        """Random training patches, the same place in every frame of a window."""
        if not self.patch_size:
            return None
        return MotionPatches(self.patch_size, self.patch_floor)


class MotionPatches:
    """``(inputs, targets) -> (input patches, target patches)``, drawn where frames move.

    Candidate patches lie on a grid of half-patch steps (a strip at the bottom or right that
    the grid does not reach is never drawn: none on the recipes' sizes); each window's patch is
    drawn with probability proportional to its mean absolute change from the last input to the
    target, plus ``floor`` times the batch's mean change (still places are drawn too, less
    often). Validation batches get random patches too: their ``val_*`` terms are noisy.
    """

    def __init__(self, size: int, floor: float) -> None:
        self.size, self.floor = size, floor

    def __call__(self, inputs, targets, rng):  # noqa: ANN001, ANN204, D102
        size, step = self.size, self.size // 2
        change = np.abs(targets - inputs[:, -1]).mean(axis=-1)  # [B, H, W]
        rows = (change.shape[1] - size) // step + 1
        cols = (change.shape[2] - size) // step + 1
        # Each candidate patch's mean change, from a summed-area table: [B, rows, cols].
        table = np.pad(change.cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0)))
        top, left = np.arange(rows)[:, None] * step, np.arange(cols)[None] * step
        per_patch = (
            table[:, top + size, left + size] - table[:, top, left + size]
            - table[:, top + size, left] + table[:, top, left]
        ) / size**2  # fmt: skip
        weights = per_patch.reshape(len(change), -1)
        weights = weights + self.floor * weights.mean() + 1e-6
        cumulative = np.cumsum(weights, axis=1)
        drawn = rng.random(len(weights))[:, None] * cumulative[:, -1:]
        chosen = np.minimum((cumulative < drawn).sum(axis=1), weights.shape[1] - 1)
        offsets = np.arange(size)
        frame_rows = (chosen // cols * step)[:, None] + offsets  # [B, size]: each its own rows
        frame_cols = (chosen % cols * step)[:, None] + offsets
        batch = np.arange(len(chosen))[:, None, None]
        at = (batch, frame_rows[:, :, None], frame_cols[:, None, :])
        return inputs.transpose(0, 2, 3, 1, 4)[at].transpose(0, 3, 1, 2, 4), targets[at]


def create_multiscale(
    config: MultiscaleConfig, input_shape: tuple, steps_per_epoch: int = 1
) -> MultiscaleTrainer:
    """The compiled trainer: generator (+ discriminator where ``adversarial_weight`` > 0).

    The saved scoring network takes whole windows of the run's frame size ``[B, k, H, W, C]``
    to the finest prediction (its first layers fix H and W); the generator inside it is the
    fully convolutional one trained on patches, which predicts any size the divisors allow.
    """
    frames, height, width, channels = input_shape
    generator = build_multiscale_generator(
        frames,
        channels,
        divisors=config.divisors,
        stages=narrower(GENERATOR_STAGES, config.width),
        dtype_policy=config.dtype_policy,
    )
    windows = keras.Input(tuple(input_shape), name="frames")
    next_frame = generator(stack_frames(windows))[-1]
    scorer = keras.Model(windows, next_frame, name="multiscale_predictor")
    discriminator = None
    if config.adversarial_weight:
        patch = (config.patch_size,) * 2 if config.patch_size else (height, width)
        discriminator = build_multiscale_discriminator(
            patch,
            frames,
            channels,
            divisors=config.divisors,
            stages=narrower(DISCRIMINATOR_STAGES, config.width),
        )
    trainer = MultiscaleTrainer(
        generator,
        scorer,
        divisors=config.divisors,
        discriminator=discriminator,
        **config.loss_weights(),
    )
    return compile_predictor(trainer, config, steps_per_epoch)
