"""The UCSD GAN as a family of the run pipeline: its config, noisy inputs, builder and trainer.

Only what is adversarial lives here; windows, scaling, checkpoints, resume, the NaN stop,
thresholds, scoring, red dots, videos and metrics are `regularity`'s, and the generator is the
ConvLSTM autoencoder's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras

from convlstm_ae.train import OUTPUT_ACTIVATION, AEConfig
from gan.model import DISCRIMINATOR_FILTERS, AdversarialAutoencoder
from gan.model import create_discriminator as _discriminator
from gan.model import create_generator as _generator
from gan.recipes import RECIPES
from regularity.datasets import Dataset
from regularity.evaluation import evaluate_run
from regularity.pipeline import get_training_data as prepared_training_clips
from regularity.pipeline import train_run, training_windows
from regularity.preprocess import Normalizer, Scaling
from regularity.training import weight_averaging

NOISE_KINDS = ("gaussian", "uniform")


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


def input_noise(kind: str, level: float) -> object:
    """A batch transform adding ``kind`` noise of ``level`` to the inputs (None for level 0).

    ``"gaussian"``: std ``level``; ``"uniform"``: in ``[-level, level]``; the targets are left
    clean, so that the generator learns to give back the clean window.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {NOISE_KINDS}, not {kind!r}")
    if not level:
        return None
    level = float(level)

    def add_noise(inputs, targets):  # noqa: ANN001, ANN202
        import tensorflow as tf

        if kind == "gaussian":
            noise = tf.random.normal(tf.shape(inputs), stddev=level)
        else:
            noise = tf.random.uniform(tf.shape(inputs), -level, level)
        return inputs + noise, targets

    return add_noise


def build_generator(config: GanConfig, input_shape: tuple) -> keras.Model:
    """The generator of ``config`` for windows of ``input_shape`` (untrained)."""
    activation = OUTPUT_ACTIVATION[Scaling(config.scaling)]
    return _generator(
        input_shape, tuple(config.filters), config.normalization, activation, config.dtype_policy
    )


def build_discriminator(config: GanConfig, input_shape: tuple) -> keras.Model:
    """The discriminator of ``config`` for windows of ``input_shape`` (untrained)."""
    return _discriminator(input_shape, tuple(config.d_filters), config.dtype_policy)


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
        config.reconstruction_weight,
        config.adversarial_weight,
        config.collapse_d_loss,
    )
    averaging = weight_averaging(config.average_epochs, steps_per_epoch)
    trainer.compile(
        keras.optimizers.Adam(config.learning_rate, clipnorm=1.0, **averaging),
        keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5, clipnorm=1.0),
    )
    trainer.build((None, *input_shape))
    return trainer


class UCSDGanTrainer:
    """The original notebook's trainer, on the shared run pipeline.

    >>> trainer = UCSDGanTrainer(GanConfig.recipe("synthetic"))  # doctest: +SKIP
    >>> trainer.train()  # doctest: +SKIP
    >>> trainer.evaluate()["frame_auc"]  # doctest: +SKIP
    """

    def __init__(self, config: GanConfig, dataset: Dataset | None = None) -> None:
        self.config = config
        self._dataset = dataset
        self._prepared = None

    @property
    def dataset(self) -> Dataset:
        """The run's dataset (opened once)."""
        if self._dataset is None:
            self._dataset = self.config.open_dataset()
        return self._dataset

    def _training_clips(self) -> tuple:
        if self._prepared is None:
            train, _, _ = prepared_training_clips(self.dataset, self.config)
            self._prepared = train, Normalizer.fit(train.clips(), self.config.scaling)
        return self._prepared

    def get_training_data(self) -> object:
        """Training windows of 10 merged frames (grey + motion), streamed: (clean, clean)."""
        return training_windows(self.config, *self._training_clips(), transform=False)

    def get_noisy_data(self) -> object:
        """The same windows with noise on every input frame: (noisy, clean)."""
        return training_windows(self.config, *self._training_clips())

    def create_generator(self) -> keras.Model:
        """The generator (the ConvLSTM autoencoder) for this config."""
        return build_generator(self.config, self.config.input_shape())

    def create_discriminator(self) -> keras.Model:
        """The discriminator for this config."""
        return build_discriminator(self.config, self.config.input_shape())

    def create_networks(self, steps_per_epoch: int = 1) -> AdversarialAutoencoder:
        """Both networks, losses and optimisers (`create_networks`)."""
        return create_networks(self.config, self.config.input_shape(), steps_per_epoch)

    def train(
        self, overwrite: bool = False, verbose: int | str = "auto", callbacks: list | None = None
    ) -> keras.Model:
        """Train (or resume) into ``config.run_dir``.

        Returns the trainer (or the saved generator, when only the thresholds were left).

        Leaves per-epoch checkpoints of the (averaged) generator, a backup of both networks and
        both optimisers while training runs (what a resume starts from), ``history.csv``,
        ``loss.png`` and ``generator_error.png``, the thresholds and the second scorer.
        """
        return train_run(
            self.config, create_networks, self._dataset, None, overwrite, verbose, callbacks
        )

    def evaluate(self, write_videos: int | None = None) -> dict:
        """Both scores on the test split: red dots, videos, graphs, ROC, ``metrics.json``."""
        return evaluate_run(self.config.run_dir, write_videos=write_videos)
