"""Two toy model families written only here, to show that a family needs no core change:
a next-frame predictor and a two-network GAN (the core's step), registered on import."""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers, ops

from regularity.data.windows import Target, WindowSpec
from regularity.nets.trainers import Trainer, Update
from regularity.run.config import RunConfig
from regularity.run.families import Family, register_family


@dataclass
class PredictorConfig(RunConfig):
    model: str = "toy_predictor"
    window: WindowSpec = WindowSpec(Target.NEXT, inputs=3)
    scaling: str = "unit"
    filters: int = 4


def build_predictor(config, input_shape, steps_per_epoch):
    inputs = keras.Input((None, *input_shape[1:]), name="frames")
    x = layers.ConvLSTM2D(config.filters, 3, padding="same", name="convlstm")(inputs)
    x = layers.Conv2D(input_shape[-1], 1, activation="sigmoid", name="next_frame")(x)
    model = keras.Model(inputs, x, name="toy_predictor")
    model.compile(keras.optimizers.Adam(config.learning_rate), "mse")
    return model


@dataclass
class GanConfig(RunConfig):
    model: str = "toy_gan"
    window: WindowSpec = WindowSpec(Target.SAME, inputs=4)
    scaling: str = "unit"
    adversarial_weight: float = 0.1
    nan_from_step: int = -1  # d_loss turns NaN from this training step on (a divergence test)
    average_epochs: float = 0.0


def build_generator(input_shape):
    inputs = keras.Input((None, *input_shape[1:]), name="frames")
    x = layers.TimeDistributed(layers.Conv2D(4, 3, strides=2, padding="same"), name="enc")(inputs)
    x = layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True, name="convlstm")(x)
    x = layers.TimeDistributed(
        layers.Conv2DTranspose(input_shape[-1], 3, strides=2, padding="same", activation="sigmoid"),
        name="dec",
    )(x)
    return keras.Model(inputs, x, name="generator")


def build_discriminator(input_shape):
    inputs = keras.Input((None, *input_shape[1:]), name="window")
    x = layers.TimeDistributed(layers.Conv2D(4, 3, strides=2), name="conv")(inputs)
    x = layers.GlobalAveragePooling3D(name="pool")(x)
    return keras.Model(inputs, layers.Dense(1, name="logit")(x), name="discriminator")


class ToyGan(Trainer):
    def __init__(self, generator, discriminator, adversarial_weight=0.1, nan_from_step=-1):
        super().__init__(["g_loss", "d_loss", "rec_loss"], name="toy_gan")
        self.generator, self.discriminator = generator, discriminator
        self.adversarial_weight, self.nan_from_step = adversarial_weight, nan_from_step

    @property
    def scoring_model(self):
        return self.generator

    def compile(self, g_optimizer, d_optimizer):
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.compile_updates()

    def updates(self):
        return [
            Update("d_loss", self.d_optimizer, self.discriminator.trainable_variables),
            Update("g_loss", self.g_optimizer, self.generator.trainable_variables),
        ]

    def call(self, x):
        return self.generator(x)

    def losses_of(self, x, y, training):
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        fake = self.generator(x, training=training)
        real_logit = self.discriminator(y, training=training)
        fake_logit = self.discriminator(fake, training=training)
        d_loss = bce(ops.ones_like(real_logit), real_logit) + bce(
            ops.zeros_like(fake_logit), fake_logit
        )
        if self.nan_from_step >= 0:
            poison = ops.where(self.d_optimizer.iterations >= self.nan_from_step, float("nan"), 1.0)
            d_loss = d_loss * poison
        rec_loss = ops.mean(ops.square(fake - y))
        g_loss = rec_loss + self.adversarial_weight * bce(ops.ones_like(fake_logit), fake_logit)
        return {"g_loss": g_loss, "d_loss": d_loss, "rec_loss": rec_loss}


def build_gan(config, input_shape, steps_per_epoch):
    from regularity.run.training import weight_averaging

    gan = ToyGan(
        build_generator(input_shape),
        build_discriminator(input_shape),
        config.adversarial_weight,
        config.nan_from_step,
    )
    averaging = weight_averaging(config.average_epochs, steps_per_epoch)
    gan.compile(keras.optimizers.Adam(1e-3, **averaging), keras.optimizers.Adam(1e-3))
    gan.build((None, *input_shape))
    return gan


PREDICTOR = register_family(Family("toy_predictor", PredictorConfig, build_predictor, "toy"))
GAN = register_family(Family("toy_gan", GanConfig, build_gan, "toy GAN"))
