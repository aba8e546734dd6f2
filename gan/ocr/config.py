"""OCR-GAN Video's config and builder (both networks, losses, optimisers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import keras

from gan.ocr.model import SCORE, OCRGanTrainer, build_ocr_discriminator, build_ocr_generator
from gan.ocr.recipes import OCR_RECIPES
from regularity.data.windows import Target, WindowSpec, input_noise
from regularity.run.config import RunConfig
from regularity.score.scoring import ScoreSpec


@dataclass
class OCRConfig(RunConfig):
    """The run config of OCR-GAN Video: the shared fields plus its modules, losses and noise.

    T is ``window.inputs`` (16 by default; the networks are built for it, never another). A
    window target ``next`` makes it the next-frame variant (`OCRGanTrainer`), scored by its
    prediction's error rather than the critic ``ocr``.
    """

    recipes: ClassVar[dict[str, dict]] = OCR_RECIPES

    model: str = "ocr_gan"
    run_dir: str = "runs/ocr_gan"
    scaling: str = "symmetric"
    window: WindowSpec = field(default_factory=lambda: WindowSpec.of({"inputs": 16}))
    filters: tuple[int, ...] = (16, 32, 64)  # each stream's, per encoder level
    d_filters: tuple[int, ...] = (16, 32, 64)
    fusion_filters: int = 8
    heads: int = 2
    fusion_weight: float = 0.1
    temporal_fusion: bool = True
    channel_selection: bool = True
    temporal_gating: bool = True
    adversarial_weight: float = 1.0
    reconstruction_weight: float = 50.0
    feature_weight: float = 1.0
    temporal_weight: float = 0.1
    ramp_epochs: float = 20.0
    noise: str = "gaussian"
    noise_level: float = 0.05  # in the scaled input's units ([-1, 1])
    d_learning_rate: float = 2e-4
    learning_rate: float = 1e-3  # 2e-4 (the design's) barely moved L1 in 3 synthetic epochs
    score_weights: tuple[float, float] = (0.9, 0.1)  # reconstruction, features
    collapse_d_loss: float = 0.0  # an epoch whose mean d_loss is lower stops training
    score: ScoreSpec = field(default_factory=lambda: ScoreSpec(frame_score=SCORE))

    def validate(self) -> None:
        """Frame size against the U-Net's levels, the window, weights, noise."""
        self.filters, self.d_filters = tuple(self.filters), tuple(self.d_filters)
        self.score_weights = tuple(float(w) for w in self.score_weights)
        if self.window.target not in (Target.SAME, Target.NEXT):
            raise ValueError(
                "OCR-GAN reconstructs its window or predicts the frame after it: window target "
                f"must be 'same' or 'next', got {self.window.target.value!r}"
            )
        if self.window.target is Target.NEXT and self.score.frame_score == SCORE:
            raise ValueError(
                f"the critic {SCORE!r} compares a window with its reconstruction: a next-frame "
                "OCR-GAN is scored by its prediction (score.frame_score='')"
            )
        step = 2 ** len(self.filters)
        if self.size[0] % step or self.size[1] % step:
            raise ValueError(f"size {self.size} must be divisible by {step} (2 ** levels)")
        weights = (self.adversarial_weight, self.reconstruction_weight, self.feature_weight,
                   self.temporal_weight, self.noise_level, *self.score_weights)  # fmt: skip
        if min(weights) < 0 or len(self.score_weights) != 2:
            raise ValueError("loss weights, score weights (two) and noise_level must be >= 0")
        input_noise(self.noise, self.noise_level)  # checks the kind

    def augmentation(self) -> object:
        """Noise on the generator's inputs of training batches (not validation, not scoring)."""
        return input_noise(self.noise, self.noise_level)


def create_ocr_gan(
    config: OCRConfig, input_shape: tuple, steps_per_epoch: int = 1
) -> OCRGanTrainer:
    """Generator, discriminator, losses and both Adams, compiled into one trainer."""
    generator = build_ocr_generator(
        input_shape,
        filters=config.filters,
        fusion_filters=config.fusion_filters,
        heads=config.heads,
        fusion_weight=config.fusion_weight,
        temporal_fusion=config.temporal_fusion,
        channel_selection=config.channel_selection,
        temporal_gating=config.temporal_gating,
        dtype_policy=config.dtype_policy,
    )
    discriminator = build_ocr_discriminator(
        input_shape, filters=config.d_filters, heads=config.heads, dtype_policy=config.dtype_policy
    )
    trainer = OCRGanTrainer(
        generator,
        discriminator,
        adversarial_weight=config.adversarial_weight,
        reconstruction_weight=config.reconstruction_weight,
        feature_weight=config.feature_weight,
        temporal_weight=config.temporal_weight,
        ramp_steps=round(config.ramp_epochs * steps_per_epoch),
        score_weights=config.score_weights,
        collapse_d_loss=config.collapse_d_loss,
        next_frame=config.window.target is Target.NEXT,
    )
    # OCR-GAN's (and DCGAN's) Adam for both networks: beta_1 0.5.
    trainer.compile(
        keras.optimizers.Adam(config.learning_rate, beta_1=0.5, clipnorm=1.0),
        keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5, clipnorm=1.0),
    )
    trainer.build((None, *input_shape))
    return trainer
