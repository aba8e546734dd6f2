"""Training on several machines: who writes the run folder, and two Keras 3 fixes.

Under ``tf.distribute.MultiWorkerMirroredStrategy`` every worker runs the same
`regularity.run.pipeline.train_run` in step; only the chief (`is_chief`) writes the run folder
(docs/distributed.md). On one machine (no strategy, ``MirroredStrategy``) every helper here is
a no-op: the process is the chief and the only worker.
"""

from __future__ import annotations

import contextlib

import keras


class OneDevice:
    """The strategy of a backend without ``tf.distribute`` (JAX): one replica on one machine."""

    num_replicas_in_sync = 1

    def scope(self) -> contextlib.AbstractContextManager:
        """Nothing to enter: variables are made where the backend puts them."""
        return contextlib.nullcontext()


def current_strategy() -> object:
    """TensorFlow's current ``tf.distribute`` strategy under its backend, else `OneDevice`."""
    if keras.backend.backend() != "tensorflow":
        return OneDevice()
    import tensorflow as tf

    return tf.distribute.get_strategy()


def is_chief(strategy: object = None) -> bool:
    """Whether this process writes the run folder: always on one machine.

    Under a multi-worker strategy, the ``chief`` task, or worker 0 of a cluster without one;
    never an ``evaluator`` or parameter server.

    >>> is_chief(None)
    True
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_count(strategy: object = None) -> int:
    """How many machines (tasks) train together under ``strategy``: 1 on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    jobs = resolver.cluster_spec().as_dict()
    return max(1, len(jobs.get("worker", ())) + len(jobs.get("chief", ())))


def any_worker(flag: bool, strategy: object = None) -> bool:
    """True on every worker when ``flag`` is True on any (an all-reduce; plain on one machine).

    Workers must take the decisions that change the number of steps (stop now) together, or
    the others wait forever at their next all-reduce.
    """
    if worker_count(strategy) <= 1:
        return flag
    import tensorflow as tf

    votes = strategy.run(lambda: tf.constant(1.0 if flag else 0.0))
    return bool(strategy.reduce("SUM", votes, axis=None) > 0)


class multi_worker_fit:  # noqa: N801 - used as a context manager, like a function
    """Within the block, Keras 3's ``fit`` works under a multi-worker strategy.

    Two faults of Keras 3's TensorFlow trainer (3.15; keras-team/keras#20585) stop it there:

    1. ``fit`` and ``evaluate`` first build the model from a batch that they average across
       replicas (``strategy.reduce("MEAN", batch)``); across workers that raises ``ValueError:
       Attempt to convert a value (PerReplica:...) with an unsupported type (...) to a Tensor``
       for any ``(inputs, targets)`` batch. Only the batch's shapes matter there: the local
       replica's part is used instead (`local_build`).
    2. Each step averages its logged metrics across workers with ``strategy.reduce("MEAN", v,
       axis=0)``, which fails for a scalar loss (``Invalid reduction dimension 0 for input with
       0 dimensions``); scalars are averaged with ``axis=None`` instead (`mean_of_scalars`).

    Both are confined to this model and the block; nothing changes on one machine.
    """

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        strategy = getattr(model, "distribute_strategy", None)
        self.strategy = strategy if worker_count(strategy) > 1 else None

    def local_build(self, iterator: object = None, data_batch: object = None) -> None:
        """Keras' ``_maybe_symbolic_build`` with the local batch in place of an averaged one."""
        import tensorflow as tf

        def local(value: object) -> object:
            if isinstance(value, tf.distribute.DistributedValues):
                return self.strategy.experimental_local_results(value)[0]
            return value

        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(local, next(batches))
                break
        with self.strategy.scope():
            self.model._symbolic_build(data_batch=data_batch)  # noqa: SLF001

    def __enter__(self) -> None:
        if self.strategy is None:
            return
        from keras.src.backend.tensorflow import trainer

        self.trainer, self.reduce = trainer, trainer.reduce_per_replica
        self.model._maybe_symbolic_build = self.local_build  # noqa: SLF001
        trainer.reduce_per_replica = mean_of_scalars(self.reduce)

    def __exit__(self, *exc: object) -> None:
        if self.strategy is None:
            return
        self.trainer.reduce_per_replica = self.reduce
        del self.model._maybe_symbolic_build  # noqa: SLF001


def mean_of_scalars(reduce_per_replica: object) -> object:
    """Keras' ``reduce_per_replica`` that averages scalars across workers with ``axis=None``."""

    def reduce(values: object, strategy: object, reduction: str) -> object:
        import tensorflow as tf

        if reduction not in ("auto", "mean") or worker_count(strategy) <= 1:
            return reduce_per_replica(values, strategy, reduction)

        def one(value: object) -> object:
            local = value
            if isinstance(value, tf.distribute.DistributedValues):
                local = strategy.experimental_local_results(value)[0]
            if getattr(local, "shape", None) is not None and local.shape.rank == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return reduce_per_replica(value, strategy, reduction)

        return tf.nest.map_structure(one, values)

    return reduce
