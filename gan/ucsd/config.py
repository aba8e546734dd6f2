"""The UCSD GAN as a family of the run pipeline: its config, noisy inputs, builder and trainer.

Only what is adversarial lives here; windows, scaling, checkpoints, resume, the NaN stop,
thresholds, scoring, red dots, videos and metrics are `regularity`'s, and the generator is the
ConvLSTM autoencoder's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras

from convlstm_ae.autoencoder.config import AEConfig
from gan.ucsd.network import DISCRIMINATOR_FILTERS, AdversarialAutoencoder
from gan.ucsd.network import create_discriminator as _discriminator
from gan.ucsd.network import create_generator as _generator
from gan.ucsd.recipes import RECIPES
from regularity.data.preprocess import Scaling
from regularity.data.windows import input_noise
from regularity.nets.blocks import OUTPUT_ACTIVATION
from regularity.run.training import weight_averaging


@dataclass
class GanConfig(AEConfig):
    """The autoencoder's run config plus the noise, loss weights and the discriminator's."""

    recipes: ClassVar[dict[str, dict]] = RECIPES

    model: str = "gan"
    run_dir: str = "runs/gan"
    noise: str = "gaussian"  # or "uniform" (in [-noise_level, noise_level])
    noise_level: float = 0.2  # std (gaussian) or half-width (uniform), in scaled input units
    reconstruction_weight: float = 1.0
    adversarial_weight: float = 0.05
    d_learning_rate: float = 1e-4
    d_filters: tuple[int, ...] = DISCRIMINATOR_FILTERS
    collapse_d_loss: float = 0.01  # an epoch whose mean d_loss is lower stops training

    def validate(self) -> None:
        """The autoencoder's checks, then the noise and the loss weights."""
        super().validate()
        self.d_filters = tuple(self.d_filters)
        input_noise(self.noise, self.noise_level)  # checks the kind
        if min(self.noise_level, self.reconstruction_weight, self.adversarial_weight) < 0:
            raise ValueError("noise_level and the loss weights must be 0 or more")
        if self.d_learning_rate <= 0 or self.collapse_d_loss < 0 or not self.d_filters:
            raise ValueError(
                "d_learning_rate must be positive, collapse_d_loss 0 or more, d_filters not empty"
            )

    def batch_transform(self) -> object:
        """Noise on every frame of the inputs; the clean window stays the target."""
        return input_noise(self.noise, self.noise_level)


def build_generator(config: GanConfig, input_shape: tuple) -> keras.Model:
    """The generator of ``config`` for windows of ``input_shape`` (untrained)."""
    activation = OUTPUT_ACTIVATION[Scaling(config.scaling)]
    return _generator(
        input_shape,
        filters=tuple(config.filters),
        normalization=config.normalization,
        output_activation=activation,
        dtype_policy=config.dtype_policy,
    )


def build_discriminator(config: GanConfig, input_shape: tuple) -> keras.Model:
    """The discriminator of ``config`` for windows of ``input_shape`` (untrained)."""
    return _discriminator(
        input_shape, filters=tuple(config.d_filters), dtype_policy=config.dtype_policy
    )


def create_networks(
    config: GanConfig, input_shape: tuple, steps_per_epoch: int = 1
) -> AdversarialAutoencoder:
    """Both networks, their losses and optimisers, compiled into one trainer.

    The generator's Adam keeps a moving average of its weights over ``config.average_epochs``
    (what is saved and scored); the discriminator's learns more slowly
    (``config.d_learning_rate``) so that it does not win before the generator has learnt.
    """
    trainer = AdversarialAutoencoder(
        build_generator(config, input_shape),
        build_discriminator(config, input_shape),
        reconstruction_weight=config.reconstruction_weight,
        adversarial_weight=config.adversarial_weight,
        collapse_d_loss=config.collapse_d_loss,
    )
    averaging = weight_averaging(config.average_epochs, steps_per_epoch)
    trainer.compile(
        keras.optimizers.Adam(config.learning_rate, clipnorm=1.0, **averaging),
        keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5, clipnorm=1.0),
    )
    trainer.build((None, *input_shape))
    return trainer
