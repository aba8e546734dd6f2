"""What every trainer shares: checkpoints, resume, NaN stop on any loss term, logs, loss plot.

Under a multi-worker strategy (``tf.distribute.MultiWorkerMirroredStrategy``) every worker runs
the same callbacks in step, but only the chief (`is_chief`) writes the run folder; the others
write into a scratch folder of their own that is removed afterwards (docs/distributed.md).
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from regularity import tensorflow_installed
from regularity.errors import RegularityError
from regularity.nets.trainers import critics_of, history_plots, scoring_network, training_failure
from regularity.run.distributed import any_worker, is_chief, multi_worker_fit
from regularity.show.plots import plot_history

logger = logging.getLogger(__name__)

SCORERS = "scorers"  # run subfolder of a trainer's second scorers (`critics_of`)


class TrainingDiverged(RegularityError):
    """A loss became NaN or infinite, or the trainer failed; the last good checkpoint is kept."""


class TrainingClock(keras.callbacks.Callback):
    """Logs ``train_seconds``, the run's training time so far, across resumed sessions.

    A resumed run counts on from the last ``train_seconds`` in its ``history.csv``, so that its
    time budget and its reported training time hold the epochs trained before an interruption
    (the part epoch a kill cut short is lost, as its steps are).
    """

    def __init__(self, history: Path) -> None:
        super().__init__()
        self.history = history

    def on_train_begin(self, logs: dict | None = None) -> None:  # noqa: D102
        self.before = self.seconds = seconds_trained(self.history)
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        self.seconds = self.before + time.perf_counter() - self.start
        logs["train_seconds"] = self.seconds


def seconds_trained(history: Path) -> float:
    """A ``history.csv``'s last ``train_seconds``: 0 without one, or from before it was logged."""
    if not history.is_file():
        return 0.0
    with history.open() as f:
        rows = list(csv.DictReader(f))
    last = rows[-1].get("train_seconds") if rows else None
    return float(last) if last not in (None, "", "NA") else 0.0


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the end of the first epoch that ends past ``minutes`` of training.

    The minutes are `TrainingClock`'s (one of `fit`'s callbacks): a resumed run spends only what
    is left. Under a multi-worker strategy all workers stop at the epoch where the first one is
    late.
    """

    def __init__(self, minutes: float) -> None:
        super().__init__()
        self.seconds = minutes * 60

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        late = logs["train_seconds"] > self.seconds
        if any_worker(late, getattr(self.model, "distribute_strategy", None)):
            self.model.stop_training = True


def weight_averaging(epochs: float, steps_per_epoch: int) -> dict:
    """Keras optimizer arguments that average the weights over about ``epochs`` epochs.

    The moving average's momentum ``1 - 1 / steps`` gives a horizon of about ``steps`` updates;
    under 2 steps there is nothing to average and it is off. Every trainer passes the result to
    its optimizer (``Adam(..., **weight_averaging(3, 144))``); `fit` then checkpoints the average.

    >>> weight_averaging(3, 100)
    {'use_ema': True, 'ema_momentum': 0.9966666666666667}
    >>> weight_averaging(0, 100)["use_ema"]
    False
    """
    steps = epochs * steps_per_epoch
    return {"use_ema": steps > 1, "ema_momentum": 1 - 1 / max(steps, 1)}


def optimizers_of(model: keras.Model) -> list:
    """Every optimizer a model trains with.

    ``model.optimizer`` and any held as an attribute (a two-network trainer's ``g_optimizer``
    and ``d_optimizer``).
    """
    found = [getattr(model, "optimizer", None), *vars(model).values()]
    optimizers = [o for o in found if isinstance(o, keras.optimizers.Optimizer)]
    return list({id(o): o for o in optimizers}.values())  # each once, in order


def averaging_optimizers(model: keras.Model) -> list:
    """The optimizers that keep a moving average of their network's weights (``use_ema``)."""
    return [o for o in optimizers_of(model) if getattr(o, "use_ema", False)]


def nonfinite_terms(logs: dict | None) -> list[str]:
    """The logged terms that are NaN or infinite, in the order they were logged.

    >>> nonfinite_terms({"g_loss": float("inf"), "d_loss": float("nan"), "rec_loss": 0.5})
    ['g_loss', 'd_loss']
    """
    bad = []
    for name, value in (logs or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not np.isfinite(number):
            bad.append(name)
    return bad


def finite_weights(model: keras.Model) -> bool:
    """Whether every floating-point weight of a model (every network it holds) is finite."""
    return all(
        np.isfinite(w).all() for w in model.get_weights() if np.issubdtype(w.dtype, np.floating)
    )


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training when ANY logged term (every loss of a GAN) or any weight is NaN.

    A trainer may say more ways its training has failed: ``model.training_failure(logs)``
    returns what went wrong in an epoch (a GAN's collapsed discriminator) or None; it is asked
    at the end of every epoch and stops training the same way.

    Keras' ``TerminateOnNaN`` looks at ``logs["loss"]`` only, which a two-optimizer trainer may
    not even report. Batch logs hold the loss from before that step's update, so at the end of
    each epoch the weights are checked too (a last step with a NaN gradient), and the epoch's
    validation terms. Runs first among the callbacks: the epoch that diverged is not backed up,
    checkpointed or logged (`UnlessDiverged` asks `good`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.diverged: dict | None = None
        self.epoch = 0

    def good(self) -> bool:
        """No term and no weight has become NaN or infinite so far."""
        return self.diverged is None

    def _stop(self, what: str, batch: int | None) -> None:
        self.diverged = {"what": what, "epoch": self.epoch + 1, "batch": batch}
        self.model.stop_training = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:  # noqa: D102
        terms = nonfinite_terms(logs)
        if terms and self.good():
            self._stop(f"{', '.join(terms)} became NaN or infinite", batch + 1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        if not self.good():
            return
        terms = nonfinite_terms(logs) or ([] if finite_weights(self.model) else ["weights"])
        if terms:
            self._stop(f"{', '.join(terms)} became NaN or infinite", None)
            return
        what = training_failure(self.model, logs or {})
        if what:
            self._stop(what, None)

    def message(self, run_dir: Path) -> str:
        """What diverged, where, and where the last good state is."""
        where = f"epoch {self.diverged['epoch']}"
        if self.diverged["batch"]:
            where += f", batch {self.diverged['batch']}"
        return (
            f"{run_dir}: {self.diverged['what']} at {where}; "
            f"the last good checkpoint and backup are kept in {run_dir / 'checkpoints'}"
        )


class UnlessDiverged(keras.callbacks.Callback):
    """Runs an epoch-level callback, but none of its epoch-end or train-end work after a NaN.

    So the epoch that diverged is neither backed up, nor checkpointed, nor logged, and the
    backup of the last good epoch is not deleted at the end: the next call resumes from it with
    every network and optimizer (and writes that epoch's history row once).
    """

    def __init__(self, callback: keras.callbacks.Callback, guard: StopOnNonFinite) -> None:
        super().__init__()
        self.callback, self.guard = callback, guard

    def set_model(self, model: keras.Model) -> None:  # noqa: D102
        super().set_model(model)
        self.callback.set_model(model)

    def set_params(self, params: dict) -> None:  # noqa: D102
        super().set_params(params)
        self.callback.set_params(params)

    def on_train_begin(self, logs: dict | None = None) -> None:  # noqa: D102
        self.callback.on_train_begin(logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        self.callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        if self.guard.good():
            self.callback.on_epoch_end(epoch, logs)

    def on_train_end(self, logs: dict | None = None) -> None:  # noqa: D102
        if self.guard.good():
            self.callback.on_train_end(logs)


class HistoryLog(keras.callbacks.CSVLogger):
    """``history.csv`` with epochs counted from 1, as the checkpoints and ``loss.png`` count."""

    def on_train_begin(self, logs: dict | None = None) -> None:  # noqa: D102
        super().on_train_begin(logs)
        if not self.append_header:  # resuming: rows keep the columns the file already names
            with open(self.filename, newline="") as f:
                self.keys = next(csv.reader(f))[1:]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        super().on_epoch_end(epoch + 1, logs)


class Backup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` (every network and optimizer a model holds), seeded from elsewhere.

    A non-chief worker backs up into its scratch folder and resumes from the chief's
    (``restore_from``).
    """

    def __init__(self, backup_dir: str, restore_from: str | None = None, **kwargs: object) -> None:
        super().__init__(backup_dir, **kwargs)
        self.restore_from = restore_from

    def on_train_begin(self, logs: dict | None = None) -> None:  # noqa: D102
        source = Path(self.restore_from) if self.restore_from else None
        if source and source.is_dir() and not Path(self.backup_dir).exists():
            shutil.copytree(source, self.backup_dir)
        super().on_train_begin(logs)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves each epoch's scoring network (``model.scoring_model`` or the model itself).

    A trainer's second scorers go to ``scorers/<epoch file>_<name>.keras`` beside it.

    Where optimizers keep a moving average of the weights (``use_ema=True``; one per network
    in a two-network trainer), the checkpoint holds the averages: they are swapped in and
    straight back around each save. (Keras' ``SwapEMAWeights(swap_on_epoch=True)`` is left
    swapped when training stops before its last epoch, and knows one optimizer only.)
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        with averaged_weights(self.model):
            path = Path(self.path.format(epoch=epoch + 1))
            scoring_network(self.model).save(path)
            # The second scorers too, so that an epoch can be scored as the final run is.
            for name, critic in critics_of(self.model).items():
                (path.parent / SCORERS).mkdir(exist_ok=True)
                critic.save(path.parent / SCORERS / f"{path.stem}_{name}.keras")


class averaged_weights:  # noqa: N801 - used as a context manager, like a function
    """Within the block, every averaging optimizer's variables hold their moving averages."""

    def __init__(self, model: keras.Model) -> None:
        self.pairs = []
        for optimizer in averaging_optimizers(model):
            # The optimizer's own pairing of variables and averages (what SwapEMAWeights uses).
            variables = optimizer._trainable_variables  # noqa: SLF001
            averages = optimizer._model_variables_moving_average  # noqa: SLF001
            self.pairs += list(zip(variables, averages, strict=True))

    def __enter__(self) -> None:
        self.raw = [v.numpy() for v, _ in self.pairs]
        self.keep()

    def keep(self) -> None:
        """Every weight set to its average for good (what `fit` leaves after training)."""
        for variable, average in self.pairs:
            # A copy: under JAX, a variable assigned another's array shares its buffer, and a
            # later step that donates the weights would delete the average with them.
            variable.assign(average.numpy())

    def __exit__(self, *exc: object) -> None:
        for (variable, _), value in zip(self.pairs, self.raw, strict=True):
            variable.assign(value)


class ProgressLog(keras.callbacks.Callback):
    """A log line every ``every`` steps within an epoch (a 10-minute epoch is not silent)."""

    def __init__(self, every: int = 50) -> None:
        super().__init__()
        self.every = max(1, every)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        self.epoch, self.start = epoch + 1, time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:  # noqa: D102
        if (batch + 1) % self.every == 0:
            terms = " ".join(f"{k}={float(v):.4g}" for k, v in (logs or {}).items())
            seconds = time.perf_counter() - self.start
            logger.info("epoch %d step %d (%.0f s): %s", self.epoch, batch + 1, seconds, terms)


def training_callbacks(
    run_dir: str | Path,
    tensorboard: bool = True,
    log_every: int = 50,
    restore_from: str | Path | None = None,
) -> list:
    """NaN stop, resume after an interruption, training clock, checkpoints, CSV/TensorBoard logs.

    A run folder whose last training ended normally has no backup: training there starts over
    and its ``history.csv`` is replaced; one that was interrupted resumes and appends.
    ``restore_from``: the backup folder to resume from when ``run_dir`` has none (`Backup`).
    """
    run_dir = Path(run_dir)
    backup = run_dir / "checkpoints" / "backup"
    history = run_dir / "history.csv"
    if not backup.exists():
        history.unlink(missing_ok=True)
    guard = StopOnNonFinite()
    restore = restore_from and str(restore_from)
    checkpoints = str(run_dir / "checkpoints" / "epoch_{epoch:03d}.keras")
    callbacks = [
        guard,
        TrainingClock(history),
        *(
            UnlessDiverged(callback, guard)
            for callback in (
                Backup(str(backup), restore, save_freq="epoch", delete_checkpoint=True),
                EpochCheckpoint(checkpoints),
                HistoryLog(str(history), append=True),
            )
        ),
        ProgressLog(log_every),
    ]
    if tensorboard and tensorflow_installed():  # its summaries are written by TensorFlow
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False))
    return callbacks


def fit(
    model: keras.Model,
    train_data: object,
    run_dir: str | Path,
    epochs: int,
    validation_data: object = None,
    callbacks: list | None = None,
    verbose: int | str = "auto",
) -> dict:
    """Train with the shared callbacks, save the scoring network as ``model.keras``, plot.

    Works for one network compiled as usual and for trainers with a custom ``train_step`` and
    several optimizers (each loss term a logged metric). With optimizers that keep a moving
    average of the weights (``use_ema=True``), checkpoints and ``model.keras`` hold averages.

    Under a multi-worker strategy every worker calls it alike (saving reads variables that
    are reduced across workers); only the chief (`is_chief`) writes ``run_dir``. The others
    write into a scratch folder removed at the end, and resume from the chief's backup.

    Returns:
        ``{"train_seconds": ..., "epochs_trained": ..., "final_loss": ...}``.

    Raises:
        TrainingDiverged: a logged loss term became NaN or infinite, or the model's
            ``training_failure`` said the training failed; the checkpoints of the epochs before
            it are kept and ``model.keras`` is not written.

    """
    run_dir = Path(run_dir)
    if is_chief(getattr(model, "distribute_strategy", None)):
        return _fit_into(model, train_data, run_dir, epochs, validation_data, callbacks, verbose)
    scratch = Path(tempfile.mkdtemp(prefix="regularity-worker-"))
    logger.info("not the chief: training outputs go to %s (removed afterwards)", scratch)
    try:
        restore = run_dir / "checkpoints" / "backup"
        return _fit_into(
            model, train_data, scratch, epochs, validation_data, callbacks, verbose, restore
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _fit_into(
    model: keras.Model,
    train_data: object,
    run_dir: Path,
    epochs: int,
    validation_data: object,
    callbacks: list | None,
    verbose: int | str,
    restore_from: Path | None = None,
) -> dict:
    """`fit` writing into ``run_dir``, this worker's own folder."""
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    shared = training_callbacks(run_dir, restore_from=restore_from)
    with multi_worker_fit(model):
        history = model.fit(
            train_data,
            epochs=epochs,
            shuffle=False,  # datasets shuffle themselves (tf.data)
            validation_data=validation_data,
            callbacks=shared + list(callbacks or []),
            verbose=verbose,
        )
    clock = next(c for c in shared if isinstance(c, TrainingClock))
    if not shared[0].good():
        raise TrainingDiverged(shared[0].message(run_dir))
    averaged_weights(model).keep()  # every network's average (Keras knows one optimizer)
    for name, critic in critics_of(model).items():  # first: model.keras marks a finished run
        (run_dir / SCORERS).mkdir(exist_ok=True)
        critic.save(run_dir / SCORERS / f"{name}.keras")
    scoring_network(model).save(run_dir / "model.keras")
    plot_history(run_dir / "history.csv", run_dir / "loss.png")
    # A trainer may ask for more plots of its own: {file name: (title, logged columns)}.
    for name, (title, columns) in history_plots(model).items():
        plot_history(run_dir / "history.csv", run_dir / name, tuple(columns), title)
    trained = len((run_dir / "history.csv").read_text().splitlines()) - 1
    losses = history.history.get("loss") or next(
        (v for k, v in history.history.items() if k.endswith("loss")), []
    )
    return {
        "train_seconds": round(clock.seconds, 1),
        "epochs_trained": trained,
        "final_loss": float(losses[-1]) if losses else None,
    }
