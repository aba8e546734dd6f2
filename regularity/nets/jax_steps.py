"""A `regularity.nets.trainers.Trainer`'s steps under Keras' JAX backend: stateless.

Keras' JAX trainer hands ``train_step`` the values of every variable (trainable, non-trainable,
``model.optimizer``'s: here every network's optimizer, `NetworkOptimizers`; metrics) and takes
back their new values. One forward pass runs in a ``keras.StatelessScope`` over those values; its
pullback (``jax.vjp``) gives each `Update` the gradient of its own term on its own weights, and
each network's optimizer applies it with ``stateless_apply``, as the TensorFlow step's tape does.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras


def _current(scope: keras.StatelessScope, variables: list, values: list) -> list:
    """Each variable's value after the scope: what it assigned, or the value it came in with."""
    out = []
    for variable, value in zip(variables, values, strict=True):
        new = scope.get_current_value(variable)
        out.append(value if new is None else new)
    return out


class JaxSteps:
    """``train_step`` and ``test_step`` of a `Trainer` under JAX (see the module docstring)."""

    def train_step(self, state: tuple, data: tuple) -> tuple:  # noqa: D102
        trainable, non_trainable, optimizer_values, metric_values = state
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        updates = self.updates()
        held = [*self.trainable_variables, *self.non_trainable_variables]
        held += self.optimizer.variables  # step counts read by a loss (a ramp, a phase)
        values = dict(
            zip(map(id, held), [*trainable, *non_trainable, *optimizer_values], strict=True)
        )
        trained = [[values[id(v)] for v in update.variables] for update in updates]

        def forward(*trained_values: list) -> tuple:
            now = dict(values)
            for update, update_values in zip(updates, trained_values, strict=True):
                now.update(zip(map(id, update.variables), update_values, strict=True))
            mapping = [(v, now[id(v)]) for v in held]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                terms = self.losses_of(inputs, targets, training=True)
                # Read before the step, as under TensorFlow.
                active = [u.active() if u.active else True for u in updates]
            moved = _current(scope, self.non_trainable_variables, non_trainable)
            return tuple(terms[u.loss] for u in updates), (terms, moved, active)

        losses, pullback, (terms, non_trainable, active) = jax.vjp(forward, *trained, has_aux=True)
        new = dict(values)
        for k, update in enumerate(updates):
            # The cotangent picks one loss: its gradient on this update's weights only.
            pick = tuple(
                jnp.ones_like(x) if j == k else jnp.zeros_like(x) for j, x in enumerate(losses)
            )
            gradients = pullback(pick)[k]
            old_state = [values[id(v)] for v in update.optimizer.variables]
            weights, opt_state = update.optimizer.stateless_apply(old_state, gradients, trained[k])
            before, after = [*trained[k], *old_state], [*weights, *opt_state]
            if update.active is not None:
                after = [jnp.where(active[k], a, b) for a, b in zip(after, before, strict=True)]
            variables = [*update.variables, *update.optimizer.variables]
            new.update(zip(map(id, variables), after, strict=True))
        logs, metric_values = self._tracked(terms, metric_values)
        return logs, (
            [new[id(v)] for v in self.trainable_variables],
            non_trainable,
            [new[id(v)] for v in self.optimizer.variables],
            metric_values,
        )

    def test_step(self, state: tuple, data: tuple) -> tuple:  # noqa: D102
        trainable, non_trainable, metric_values = state
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        mapping = [
            *zip(self.trainable_variables, trainable, strict=True),
            *zip(self.non_trainable_variables, non_trainable, strict=True),
        ]
        with keras.StatelessScope(state_mapping=mapping):
            terms = self.losses_of(inputs, targets, training=False)
        logs, metric_values = self._tracked(terms, metric_values)
        return logs, (trainable, non_trainable, metric_values)

    def _tracked(self, terms: dict, metric_values: list) -> tuple[dict, list]:
        """The running means after this batch's terms, and their variables' new values."""
        mapping = list(zip(self.metrics_variables, metric_values, strict=True))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = self.track(terms)
        return logs, _current(scope, self.metrics_variables, metric_values)
