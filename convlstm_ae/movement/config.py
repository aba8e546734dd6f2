"""The movement matcher's config and builder: backbone, ConvLSTM head, two-phase trainer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import keras
import numpy as np

from convlstm_ae.movement.model import (
    BACKBONES,
    MovementTrainer,
    build_backbone,
    build_movement_model,
)
from convlstm_ae.movement.recipes import MOVEMENT_RECIPES
from regularity.data.windows import Target, WindowSpec
from regularity.run.config import RunConfig


@dataclass
class MovementConfig(RunConfig):
    """A movement matcher's run: one movement (``dataset_options["normal"]``) trained on."""

    recipes: ClassVar[dict[str, dict]] = MOVEMENT_RECIPES

    model: str = "movement_matcher"
    dataset: str = "figures"
    dataset_options: dict = field(default_factory=lambda: {"normal": "wave"})
    size: tuple[int, int] = (64, 64)
    scaling: str = "unit"
    window: WindowSpec = field(default_factory=lambda: WindowSpec(Target.SHIFTED, 9))
    thresholds_from: str = "held_out"
    epochs: int = 12
    backbone: str = "vgg16"
    weights: str | None = None  # "imagenet", a weights file, or None (random)
    freeze_lower: bool = True  # the backbone below its top block never trains
    head_epochs: int = 6  # phase 1; phase 2 (the top block fine-tuned) for the rest
    fine_tune_rate: float = 0.1  # phase 2's learning rate for the top block, relative
    filters: int = 64
    dropout: float = 0.0
    batch_norm: bool = False
    activation: str = "relu"
    l2_weight: float = 1.0
    ssim_weight: float = 1.0
    match_percentile: float = 5.0  # of held-out windows' similarity: the decision threshold
    # What decides (`matching.MEASURES`): "typical" (SSIM and skill over copying, each
    # against the held-out windows), chosen on a synthetic development set (docs)
    match_measure: str = "typical"
    mirror: bool = False  # flip half the training windows left-right (a mirrored performer)

    def validate(self) -> None:
        """Shifted windows, a known backbone, frames it can read."""
        if self.window.target is not Target.SHIFTED:
            raise ValueError("a movement matcher predicts shifted sequences (Target.SHIFTED)")
        if self.window.inputs < 2:
            raise ValueError("a movement window needs 2 frames or more (S >= 2)")
        if self.backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; known: {', '.join(BACKBONES)}")
        if min(self.size) < 32 or any(v % 8 for v in self.size):
            raise ValueError(f"frame size {self.size}: at least 32 and a multiple of 8")
        if self.scaling != "unit":
            raise ValueError("the model outputs frames in [0, 1]: scaling must be 'unit'")
        if not 0 <= self.head_epochs <= self.epochs or self.fine_tune_rate <= 0:
            raise ValueError(
                f"need 0 <= head_epochs <= epochs (phase 2 is the rest) and fine_tune_rate > 0, "
                f"got head_epochs={self.head_epochs}, epochs={self.epochs}, "
                f"fine_tune_rate={self.fine_tune_rate}"
            )
        if self.val_clips < 1:
            raise ValueError(
                "the threshold comes from held-out clips of the movement: val_clips >= 1"
            )
        from convlstm_ae.movement.matching import MEASURES

        if self.match_measure not in MEASURES:
            raise ValueError(f"match_measure must be one of {MEASURES}, not {self.match_measure!r}")
        if not 0 < self.match_percentile < 100:
            raise ValueError(f"match_percentile must lie in (0, 100), got {self.match_percentile}")

    def augmentation(self) -> object:
        """With ``mirror``: each training window flipped left-right with probability 1/2."""
        if not self.mirror:
            return None

        def mirror(inputs, targets, rng):  # noqa: ANN001, ANN202
            flip = rng.random((len(inputs), 1, 1, 1, 1)) < 0.5
            return (
                np.where(flip, inputs[:, :, :, ::-1], inputs),
                np.where(flip, targets[:, :, :, ::-1], targets),
            )

        return mirror


def create_movement_model(
    config: MovementConfig, input_shape: tuple, steps_per_epoch: int
) -> MovementTrainer:
    """The compiled two-phase trainer of a run (`regularity.run.pipeline.train_run`'s builder)."""
    backbone = build_backbone(
        config.backbone, config.size, weights=config.weights, freeze_lower=config.freeze_lower
    )
    network = build_movement_model(
        input_shape,
        backbone,
        filters=config.filters,
        dropout=config.dropout,
        batch_norm=config.batch_norm,
        activation=config.activation,
    )
    trainer = MovementTrainer(
        network,
        backbone,
        head_steps=config.head_epochs * steps_per_epoch,
        l2_weight=config.l2_weight,
        ssim_weight=config.ssim_weight,
    )
    trainer.compile(
        keras.optimizers.Adam(config.learning_rate),
        keras.optimizers.Adam(config.learning_rate * config.fine_tune_rate),
    )
    return trainer
