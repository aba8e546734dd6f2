"""The model side of the family contract: `Trainer`, the base of every multi-network trainer.

A family's builder returns either one compiled network (trained by Keras' own ``fit`` and scored
as it is) or a `Trainer`: a ``keras.Model`` whose training step is the core's, on TensorFlow
and JAX alike. A trainer says what one batch costs (``losses_of``: every logged term) and which
optimizer applies the gradient of which term to which weights (``updates``: one `Update` per
network); `backend_steps` picks the step that carries this out on the running Keras backend, so
that no family branches on the backend. By the methods below a trainer also says which network
testing scores, which second scorers it saves, how its training can fail beyond NaN, and which
extra loss plots it draws. The run pipeline asks only these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from regularity.errors import RegularityError


@dataclass(frozen=True)
class Update:
    """One optimizer's part of a training step: the gradient of one logged term on its weights.

    ``active`` (optional): a boolean tensor, read before the step, saying whether this update
    applies in this step (a second phase that starts at a step count); a skipped update leaves
    its weights and its optimizer's state as they were.
    """

    loss: str
    optimizer: keras.optimizers.Optimizer
    variables: list
    active: Callable[[], object] | None = None


class NetworkOptimizers(keras.optimizers.Optimizer):
    """Every network's own optimizer, held as the one ``model.optimizer`` Keras knows.

    Keras threads one optimizer's variables through a training step (under JAX, the only
    optimizer state a ``train_step`` receives): these are the networks' optimizers' variables.
    It applies nothing itself, and saves nothing: each network's optimizer is saved and
    restored as the trainer's own attribute (``g_optimizer``, ``d_optimizer``, ...), and each
    weight average is finalised by the core (`regularity.run.training`).
    """

    def __init__(self, optimizers: list) -> None:
        super().__init__(learning_rate=0.0, name="network_optimizers")
        self.parts = tuple(optimizers)
        self.built = True

    @property
    def variables(self) -> list:  # noqa: D102
        return [v for optimizer in self.parts for v in optimizer.variables]

    @property
    def iterations(self) -> object:
        """The first network's step count (what TensorBoard counts steps by)."""
        return self.parts[0].iterations

    def build(self, variables: list) -> None:  # noqa: D102 - each part is built by its trainer
        self.built = True

    def save_own_variables(self, store: object) -> None:  # noqa: D102
        pass

    def load_own_variables(self, store: object) -> None:  # noqa: D102
        pass

    def finalize_variable_values(self, variables: list) -> None:  # noqa: D102
        pass


class TensorFlowSteps:
    """A `Trainer`'s steps under TensorFlow: one forward pass taped, each update applied."""

    def train_step(self, data: tuple) -> dict:  # noqa: D102
        import tensorflow as tf

        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        updates = self.updates()
        # Read before the step: an update's own condition may count the steps it moves.
        active = [u.active() if u.active else None for u in updates]
        with tf.GradientTape(persistent=True) as tape:
            terms = self.losses_of(inputs, targets, training=True)
        # Every gradient from the same weights, before any is applied.
        gradients = [tape.gradient(terms[u.loss], u.variables) for u in updates]
        del tape
        for update, grads, on in zip(updates, gradients, active, strict=True):

            def apply(update: Update = update, grads: list = grads) -> object:
                update.optimizer.apply(grads, update.variables)
                return tf.constant(True)

            apply() if on is None else tf.cond(on, apply, lambda: tf.constant(False))
        return self.track(terms)

    def test_step(self, data: tuple) -> dict:  # noqa: D102
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.track(self.losses_of(inputs, targets, training=False))


class UnsupportedSteps:
    """A `Trainer` under a backend it has no step for (PyTorch): a clear error, not a wrong one."""

    def train_step(self, *args: object) -> dict:  # noqa: D102
        raise RegularityError(
            f"{type(self).__name__} trains under the TensorFlow or JAX backend of Keras, not "
            f"{keras.backend.backend()!r}: set KERAS_BACKEND=jax or tensorflow"
        )

    test_step = train_step


def backend_steps() -> type:
    """The steps of a `Trainer` on the running Keras backend: the one place that asks it."""
    backend = keras.backend.backend()
    if backend == "jax":
        from regularity.nets.jax_steps import JaxSteps

        return JaxSteps
    return TensorFlowSteps if backend == "tensorflow" else UnsupportedSteps


class Trainer(backend_steps(), keras.Model):
    """Base of a multi-network trainer: one step for all its networks, each term logged.

    A subclass names its terms once (``super().__init__(terms, name=...)``), gives
    ``losses_of(inputs, targets, training)`` (every term of one batch, the losses its updates
    follow among them) and ``updates()`` (an `Update` per network: which logged term's gradient
    its optimizer applies to which weights), and compiles with `compile_updates`. Each term is a
    running mean that Keras resets every epoch, so that ``history.csv`` holds every term's epoch
    mean (and the NaN stop sees them). It overrides what differs from the defaults:
    ``scoring_model`` (the network testing runs), ``critics`` (second scorers saved beside it),
    ``training_failure`` and ``history_plots``.
    """

    def __init__(self, terms: list[str], name: str) -> None:
        super().__init__(name=name)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in terms}

    def losses_of(self, inputs: object, targets: object, training: bool) -> dict:
        """Every logged term of one batch (the losses the updates follow among them)."""
        raise NotImplementedError(f"{type(self).__name__} must say its losses_of")

    def updates(self) -> list[Update]:
        """Which optimizer applies the gradient of which term to which weights, one per network."""
        raise NotImplementedError(f"{type(self).__name__} must say its updates")

    def compile_updates(self) -> None:
        """Compiles the trainer to step every `Update`, each optimizer built (for a resume)."""
        updates = self.updates()
        for update in updates:
            update.optimizer.build(update.variables)
        optimizers = list({id(u.optimizer): u.optimizer for u in updates}.values())
        super().compile(optimizer=NetworkOptimizers(optimizers), auto_scale_loss=False)

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
