"""Adversarial training, shared by the adversarial families: the two-network trainer base."""

from __future__ import annotations

import keras
from keras import ops

from regularity.nets.trainers import Trainer, Update


class AdversarialTrainer(Trainer):
    """A generator against a discriminator, one Keras ``train_step`` for both.

    A subclass gives ``losses_of(inputs, targets, training)``: every logged term of a batch,
    ``g_loss`` and ``d_loss`` among them; each network's own optimizer applies its loss's
    gradient, from one forward pass (`Trainer`'s step, on TensorFlow or JAX). Collapse: when
    an epoch's mean ``d_loss`` falls under ``collapse_d_loss`` the discriminator tells every
    generated window from a real one: its verdict no longer says how a window could look more
    normal, and the adversarial term, growing without bound, swamps the rest;
    `training_failure` then stops training (`regularity.run.training.StopOnNonFinite`),
    keeping the last good epoch's backup.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        terms: list[str],
        *,
        collapse_d_loss: float = 0.01,
        name: str = "adversarial_trainer",
    ) -> None:
        super().__init__(terms, name=name)
        self.generator, self.discriminator = generator, discriminator
        self.collapse_d_loss = collapse_d_loss

    def compile(self, g_optimizer: object, d_optimizer: object) -> None:
        """Each network's own optimizer."""
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.compile_updates()

    def updates(self) -> list[Update]:
        """The generator follows ``g_loss``, the discriminator ``d_loss``, from one forward pass.

        The fake windows are not detached for D: D's gradient is taken on D's weights only.
        """
        return [
            Update("d_loss", self.d_optimizer, self.discriminator.trainable_variables),
            Update("g_loss", self.g_optimizer, self.generator.trainable_variables),
        ]

    def training_failure(self, logs: dict) -> str | None:
        """The collapse of the discriminator in an epoch's logs, or None (see the class doc)."""
        d_loss = logs.get("d_loss")
        if d_loss is not None and float(d_loss) < self.collapse_d_loss:
            return (
                f"the discriminator collapsed (epoch mean d_loss {float(d_loss):.3g} < "
                f"{self.collapse_d_loss:g}: it tells every generated window from a real one); "
                "train again in a new run folder (or with overwrite) with a slower "
                "discriminator (d_learning_rate) or a smaller adversarial_weight"
            )
        return None


def adversarial_terms(real_logits: object, fake_logits: object) -> tuple[object, object]:
    """One scale's binary cross-entropies on logits: the generator's and the discriminator's.

    The generator wants its predictions called real, ``BCE(D(X, G(X)), 1)``; the discriminator
    wants ``BCE(D(X, Y), 1) + BCE(D(X, G(X)), 0)``. ``-log sigmoid(l) = softplus(-l)`` keeps
    both finite for any logit.
    """
    generator_term = ops.mean(ops.softplus(-fake_logits))
    discriminator_term = ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))
    return generator_term, discriminator_term
