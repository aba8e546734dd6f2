"""The model side of the family contract: `Trainer`, the base of every multi-network trainer.

A family's builder returns either one compiled network (trained by Keras' own ``fit`` and scored
as it is) or a `Trainer`: a ``keras.Model`` with its own ``train_step`` that says, by the
methods below, which network testing scores, which second scorers it saves, how its training
can fail beyond NaN, and which extra loss plots it draws. The run pipeline asks only these.
"""

from __future__ import annotations

import keras


class Trainer(keras.Model):
    """Base of a trainer with its own ``train_step``: each loss term a running mean, logged.

    A subclass names its terms once (``super().__init__(terms, name=...)``) and returns
    ``self.track(terms)`` from ``train_step`` and ``test_step``; Keras resets the means every
    epoch, so that ``history.csv`` holds every term's epoch mean (and the NaN stop sees them).
    It overrides what differs from the defaults: ``scoring_model`` (the network testing
    runs), ``critics`` (second scorers saved beside it), ``training_failure`` and
    ``history_plots``.
    """

    def __init__(self, terms: list[str], name: str) -> None:
        super().__init__(name=name)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in terms}

    @property
    def metrics(self) -> list:  # noqa: D102
        return list(self.trackers.values())

    def track(self, terms: dict) -> dict:
        """Adds one batch's terms to their means; the means so far, as Keras logs them."""
        for name, value in terms.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @property
    def scoring_model(self) -> keras.Model:
        """The network whose outputs are scored and saved as ``model.keras``."""
        raise NotImplementedError(f"{type(self).__name__} must say its scoring_model")

    @property
    def critics(self) -> dict[str, keras.Model]:
        """Second scorers (name -> network mapping windows to one logit per target frame)."""
        return {}

    def training_failure(self, logs: dict) -> str | None:
        """What went wrong in an epoch beyond NaN (a collapsed discriminator), or None."""
        return None

    @property
    def history_plots(self) -> dict[str, tuple[str, list[str]]]:
        """Extra loss plots: file stem -> (title, logged columns)."""
        return {}


def scoring_network(model: keras.Model) -> keras.Model:
    """The network whose outputs are scored: a `Trainer`'s ``scoring_model``, or the model."""
    return model.scoring_model if isinstance(model, Trainer) else model


def critics_of(model: keras.Model) -> dict:
    """A model's second scorers (`Trainer.critics`); none for a single network."""
    return dict(model.critics) if isinstance(model, Trainer) else {}


def training_failure(model: keras.Model, logs: dict) -> str | None:
    """What a `Trainer` says went wrong in an epoch, or None."""
    return model.training_failure(logs) if isinstance(model, Trainer) else None


def history_plots(model: keras.Model) -> dict:
    """A `Trainer`'s extra loss plots; none for a single network."""
    return dict(model.history_plots) if isinstance(model, Trainer) else {}
