"""The frame predictors as families of the run pipeline: config, builder, teacher forcing.

``unet_predictor`` (k frames -> the next, Liu et al. 2018) and ``seq2seq_predictor`` (k frames
-> the n that follow, ConvLSTM encoder-decoder) share one config; its ``model`` field says
which network is built. Both train through `PredictionTrainer` and are scored by PSNR (Liu et
al.'s anomaly score: 1 - the per-video min-max of the PSNR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import keras

from convlstm_ae.predictors import (
    UNET_FILTERS,
    PredictionTrainer,
    build_frame_discriminator,
    build_seq2seq_predictor,
    build_unet_predictor,
)
from convlstm_ae.recipes import SEQ2SEQ_RECIPES, UNET_RECIPES
from convlstm_ae.train import OUTPUT_ACTIVATION
from regularity.config import RunConfig
from regularity.preprocess import Scaling
from regularity.scoring import ScoreSpec
from regularity.training import weight_averaging
from regularity.windows import Target, WindowSpec


@dataclass
class PredictorConfig(RunConfig):
    """The shared run config plus the predictors' networks and loss weights."""

    recipes: ClassVar[dict[str, dict]] = UNET_RECIPES
    # The networks this config builds, and the target each predicts.
    models: ClassVar[dict[str, Target]] = {
        "unet_predictor": Target.NEXT,
        "seq2seq_predictor": Target.FUTURE,
    }

    model: str = "unet_predictor"
    run_dir: str = "runs/unet_predictor"
    window: WindowSpec = WindowSpec(Target.NEXT, inputs=4)
    scaling: str = Scaling.SYMMETRIC.value  # (X - 127.5) / 127.5, a tanh output
    filters: tuple[int, ...] = UNET_FILTERS  # the U-Net's levels
    seq2seq_filters: int = 64
    seq2seq_layers: int = 2
    intensity_weight: float = 1.0
    gradient_weight: float = 1.0
    motion_weight: float = 0.0
    # Liu et al.'s adversarial option (U-Net only; 0 leaves the discriminator out): their
    # weight 0.05 and discriminator rate 2e-5
    adversarial_weight: float = 0.0
    d_learning_rate: float = 2e-5
    d_filters: tuple[int, ...] = (64, 128, 256, 512)
    score: ScoreSpec = field(default_factory=lambda: ScoreSpec(measure="psnr"))

    def validate(self) -> None:
        """The model's name against its window: one next frame, or several future ones."""
        if self.model not in self.models:
            raise ValueError(f"model must be one of {sorted(self.models)}, not {self.model!r}")
        self.filters = tuple(self.filters)
        self.d_filters = tuple(self.d_filters)
        if self.adversarial_weight and self.models[self.model] is not Target.NEXT:
            raise ValueError(f"adversarial_weight needs a one-frame predictor, not {self.model}")
        if self.window.target is not self.models[self.model]:
            raise ValueError(
                f"{self.model} predicts with target {self.models[self.model].value!r}, "
                f"not {self.window.target.value!r}"
            )
        weights = (self.intensity_weight, self.gradient_weight, self.motion_weight)
        if min(*weights, self.adversarial_weight) < 0 or not any(weights):
            raise ValueError(
                "loss weights must be >= 0, and one of intensity, gradient, motion > 0"
            )
        if self.motion:
            raise ValueError("a predictor predicts frames: motion must be False")
        if self.seq2seq_layers < 1:
            raise ValueError("seq2seq_layers must be 1 or more")
        # Checked before any data is loaded: a network that halves the frame must be able to.
        step = self.size_step()
        if self.size and (self.size[0] % step or self.size[1] % step):
            raise ValueError(f"{self.model}: frame size {self.size} must be divisible by {step}")

    def loss_weights(self) -> dict[str, float]:
        """The trainer's loss weights (`PredictionTrainer`)."""
        names = ("intensity_weight", "gradient_weight", "motion_weight", "adversarial_weight")
        return {name: getattr(self, name) for name in names}

    def size_step(self) -> int:
        """What the frame size must be divisible by (the U-Net halves it once per level)."""
        return 2 ** (len(self.filters) - 1) if self.model == "unet_predictor" else 2

    def batch_transform(self) -> object:
        """Teacher forcing for the seq2seq: each target's previous frame goes in as well."""
        if self.model != "seq2seq_predictor":
            return None

        def teacher_forcing(inputs, targets):  # noqa: ANN001, ANN202
            from keras import ops

            previous = ops.concatenate([inputs[:, -1:], targets[:, :-1]], axis=1)
            return (inputs, previous), targets

        return teacher_forcing


@dataclass
class Seq2SeqConfig(PredictorConfig):
    """The seq2seq predictor's defaults: 4 frames in, 4 predicted."""

    recipes: ClassVar[dict[str, dict]] = SEQ2SEQ_RECIPES

    model: str = "seq2seq_predictor"
    run_dir: str = "runs/seq2seq_predictor"
    window: WindowSpec = WindowSpec(Target.FUTURE, inputs=4, outputs=4)


def create_predictor(
    config: PredictorConfig, input_shape: tuple, steps_per_epoch: int = 1
) -> PredictionTrainer:
    """The compiled trainer of ``config.model`` (Adam; weights averaged as configured)."""
    activation = OUTPUT_ACTIVATION[Scaling(config.scaling)]
    if config.model == "seq2seq_predictor":
        network, scorer = build_seq2seq_predictor(
            input_shape,
            config.window.outputs,
            config.seq2seq_filters,
            config.seq2seq_layers,
            activation,
        )
    else:
        network = scorer = build_unet_predictor(
            input_shape, config.filters, activation, config.dtype_policy
        )
    discriminator = None
    if config.adversarial_weight:
        discriminator = build_frame_discriminator(input_shape[1:], config.d_filters)
    trainer = PredictionTrainer(
        network, scorer, discriminator=discriminator, **config.loss_weights()
    )
    return compile_predictor(trainer, config, steps_per_epoch)


def compile_predictor(
    trainer: PredictionTrainer, config: PredictorConfig, steps_per_epoch: int
) -> PredictionTrainer:
    """Compiles a predictor's trainer: Adam for the network, Adam for its discriminator.

    The network's keeps the weights' moving average as configured; the discriminator's runs at
    ``config.d_learning_rate``.
    """
    d_optimizer = None
    if trainer.discriminator is not None:
        d_optimizer = keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5)
    optimizer = keras.optimizers.Adam(
        config.learning_rate,
        clipnorm=1.0,
        **weight_averaging(config.average_epochs, steps_per_epoch),
    )
    trainer.compile(optimizer, d_optimizer)
    return trainer
