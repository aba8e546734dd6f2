"""Frame prediction, shared by every predictor family: its config, trainer and optimisers.

A predictor maps k input frames to the next one (or the n that follow); its training loss is a
weighted sum of `regularity.nets.losses` terms, with Liu et al. 2018's adversarial option, and
it is scored by PSNR (1 - the per-video min-max of the PSNR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import keras
from keras import layers

from regularity.data.preprocess import Scaling
from regularity.data.windows import Target, WindowSpec
from regularity.nets.trainers import Trainer, Update
from regularity.run.config import RunConfig
from regularity.run.training import weight_averaging
from regularity.score.scoring import ScoreSpec


def stack_frames(windows: keras.KerasTensor) -> keras.KerasTensor:
    """Windows ``[B, k, H, W, C]`` -> ``[B, H, W, k * C]``: the frames side by side.

    Stacked along the channels, the k frames are seen together by a network's first convolution.
    """
    frames, height, width, channels = windows.shape[1:]
    x = layers.Permute((2, 3, 1, 4), name="frames_last")(windows)
    return layers.Reshape((height, width, frames * channels), name="stacked")(x)


class PredictionTrainer(Trainer):
    """Trains a frame predictor on weighted loss terms, each logged every epoch.

    ``loss = intensity_weight * L2 + gradient_weight * GDL + motion_weight * motion
    [+ adversarial_weight * adversarial]`` (`regularity.nets.losses`). With a ``discriminator``
    (Liu et al. 2018's adversarial option, least squares), the generator's term is
    ``(D(Y^) - 1)^2 / 2`` and the discriminator, trained by its own optimizer from the same
    forward pass, minimises ``d_loss = (D(Y) - 1)^2 / 2 + D(Y^)^2 / 2``.
    Batches are ``(inputs, targets)``: a U-Net's ``[B, k, H, W, C]`` ->
    ``[B, H, W, C]``, or a teacher-forced seq2seq's ``([frames, previous], [B, n, H, W, C])``.
    The motion term compares each target's change from the frame before it with the
    prediction's. ``scoring_model`` is what testing runs: the U-Net itself, or the seq2seq's
    autoregressive model.
    """

    def __init__(
        self,
        network: keras.Model,
        scoring_model: keras.Model | None = None,
        *,
        intensity_weight: float = 1.0,
        gradient_weight: float = 1.0,
        motion_weight: float = 0.0,
        discriminator: keras.Model | None = None,
        adversarial_weight: float = 0.05,
    ) -> None:
        weights_of_terms = {
            "intensity_loss": intensity_weight,
            "gradient_loss": gradient_weight,
            "motion_loss": motion_weight,
        }
        logged = ["loss", *weights_of_terms]
        if discriminator is not None:
            weights_of_terms["adversarial_loss"] = adversarial_weight
            logged += ["adversarial_loss", "d_loss"]
        super().__init__(logged, name="prediction_trainer")
        self.network = network
        self.scorer = scoring_model or network
        self.discriminator = discriminator
        self.weights_of_terms = weights_of_terms
        self.built = True  # its only weights are the networks', built already

    @property
    def scoring_model(self) -> keras.Model:
        """The network testing runs (autoregressive for a seq2seq)."""
        return self.scorer

    def compile(self, optimizer: object, d_optimizer: object = None) -> None:
        """The predictor's optimizer, and the discriminator's where there is one."""
        self.network_optimizer, self.d_optimizer = optimizer, d_optimizer
        self.compile_updates()

    def updates(self) -> list[Update]:
        """The predictor follows ``loss``; a discriminator ``d_loss``, from the same pass."""
        updates = [Update("loss", self.network_optimizer, self.network.trainable_variables)]
        if self.discriminator is not None:
            discriminator = self.discriminator.trainable_variables
            updates.insert(0, Update("d_loss", self.d_optimizer, discriminator))
        return updates

    def call(self, inputs: object, training: bool = False) -> object:  # noqa: D102
        return self.network(inputs, training=training)

    def losses_of(self, inputs: object, targets: object, training: bool) -> dict:
        """The total loss and each of its terms for one batch."""
        from regularity.nets.losses import gradient_difference_loss, intensity_loss, motion_loss

        predictions = self.network(inputs, training=training)
        # The frame before each target: the last input frame for a one-step predictor, the
        # teacher-forced "previous" frames for a seq2seq.
        before = inputs[1] if isinstance(inputs, list | tuple) else inputs[:, -1]
        terms = {
            "intensity_loss": intensity_loss(targets, predictions),
            "gradient_loss": gradient_difference_loss(targets, predictions),
            "motion_loss": motion_loss(before, targets, predictions),
        }
        if self.discriminator is not None:
            from keras import ops

            real = self.discriminator(targets, training=training)
            fake = self.discriminator(predictions, training=training)
            terms["adversarial_loss"] = ops.mean(ops.square(fake - 1.0)) / 2
            terms["d_loss"] = (ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake))) / 2
        terms["loss"] = self.weighted_sum(terms)
        return terms

    def weighted_sum(self, terms: dict) -> object:
        """The loss: each weighted term (``weights_of_terms``) of ``terms``, summed."""
        return sum(w * terms[n] for n, w in self.weights_of_terms.items() if w)


@dataclass
class PredictorConfig(RunConfig):
    """The run config of a frame predictor: its window's target and its loss weights.

    A predictor family subclasses it with its network's fields and its ``target`` (one next
    frame, or several future ones).
    """

    target: ClassVar[Target] = Target.NEXT

    window: WindowSpec = WindowSpec(Target.NEXT, inputs=4)
    scaling: str = Scaling.SYMMETRIC.value  # (X - 127.5) / 127.5, a tanh output
    intensity_weight: float = 1.0
    gradient_weight: float = 1.0
    motion_weight: float = 0.0
    # Liu et al.'s adversarial option (one-frame predictors; 0 leaves the discriminator out):
    # their weight 0.05 and discriminator rate 2e-5
    adversarial_weight: float = 0.0
    d_learning_rate: float = 2e-5
    score: ScoreSpec = field(default_factory=lambda: ScoreSpec(measure="psnr"))

    def validate(self) -> None:
        """The window's target, the loss weights and the frame size, before any data is loaded."""
        if self.adversarial_weight and self.target is not Target.NEXT:
            raise ValueError(f"adversarial_weight needs a one-frame predictor, not {self.model}")
        if self.window.target is not self.target:
            raise ValueError(
                f"{self.model} predicts with target {self.target.value!r}, "
                f"not {self.window.target.value!r}"
            )
        weights = (self.intensity_weight, self.gradient_weight, self.motion_weight)
        if min(*weights, self.adversarial_weight) < 0 or not any(weights):
            raise ValueError(
                "loss weights must be >= 0, and one of intensity, gradient, motion > 0"
            )
        step = self.size_step()
        if self.size and (self.size[0] % step or self.size[1] % step):
            raise ValueError(f"{self.model}: frame size {self.size} must be divisible by {step}")

    def loss_weights(self) -> dict[str, float]:
        """The trainer's loss weights (`PredictionTrainer`)."""
        names = ("intensity_weight", "gradient_weight", "motion_weight", "adversarial_weight")
        return {name: getattr(self, name) for name in names}

    def size_step(self) -> int:
        """What the frame size must be divisible by (a network that halves it must be able to)."""
        return 2


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
