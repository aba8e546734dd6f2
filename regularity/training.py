"""What every trainer shares: checkpoints, resume, NaN stop, CSV and TensorBoard logs, loss plot."""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from regularity.errors import RegularityError
from regularity.plots import plot_history


class TrainingDiverged(RegularityError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the end of the first epoch that ends past ``minutes`` of training."""

    def __init__(self, minutes: float) -> None:
        super().__init__()
        self.seconds = minutes * 60

    def on_train_begin(self, logs: dict | None = None) -> None:  # noqa: D102
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        if time.perf_counter() - self.start > self.seconds:
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


class AveragedCheckpoint(keras.callbacks.Callback):
    """Saves each epoch's model with the optimizer's moving-average weights (``use_ema=True``).

    Keras' ``SwapEMAWeights(swap_on_epoch=True)`` is left swapped when training stops before
    its last epoch (`TimeBudget`), and ``fit``'s closing copy of the average into the model
    then brings back the raw weights; this swaps in and straight back around each save.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        optimizer = self.model.optimizer
        # The optimizer's own pairing of variables and averages (what SwapEMAWeights uses).
        variables = optimizer._trainable_variables  # noqa: SLF001
        averages = optimizer._model_variables_moving_average  # noqa: SLF001
        raw = [v.numpy() for v in variables]
        for variable, average in zip(variables, averages, strict=True):
            variable.assign(average)
        self.model.save(self.path.format(epoch=epoch + 1))
        for variable, value in zip(variables, raw, strict=True):
            variable.assign(value)


def training_callbacks(
    run_dir: str | Path, tensorboard: bool = True, averaged: bool = False
) -> list:
    """Checkpoint every epoch, resume after an interruption, stop on NaN, log CSV/TensorBoard.

    A run folder whose last training ended normally has no backup: training there starts over
    and its ``history.csv`` is replaced; one that was interrupted resumes and appends. With
    ``averaged`` (an optimizer with ``use_ema=True``) checkpoints hold the averaged weights.
    """
    run_dir = Path(run_dir)
    backup = run_dir / "checkpoints" / "backup"
    history = run_dir / "history.csv"
    if not backup.exists():
        history.unlink(missing_ok=True)
    checkpoint = AveragedCheckpoint if averaged else keras.callbacks.ModelCheckpoint
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup), save_freq="epoch", delete_checkpoint=True),
        checkpoint(str(run_dir / "checkpoints" / "epoch_{epoch:03d}.keras")),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(history), append=True),
    ]
    if tensorboard:
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
    """Train with the shared callbacks, save ``model.keras`` and ``loss.png``.

    With an optimizer that keeps a moving average of the weights (``use_ema=True``), the
    checkpoints and ``model.keras`` hold the averaged weights.

    Returns:
        ``{"train_seconds": ..., "epochs_trained": ..., "final_loss": ...}``.

    Raises:
        TrainingDiverged: the loss became NaN.

    """
    run_dir = Path(run_dir)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    history = model.fit(
        train_data,
        epochs=epochs,
        shuffle=False,  # datasets shuffle themselves (tf.data)
        validation_data=validation_data,
        callbacks=training_callbacks(run_dir, averaged=getattr(model.optimizer, "use_ema", False))
        + list(callbacks or []),
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise TrainingDiverged(
            f"{run_dir}: loss became {losses[-1]} at epoch {len(losses)}; "
            f"the last good checkpoint is in {run_dir / 'checkpoints'}"
        )
    model.save(run_dir / "model.keras")
    plot_history(run_dir / "history.csv", run_dir / "loss.png")
    trained = len((run_dir / "history.csv").read_text().splitlines()) - 1
    return {
        "train_seconds": round(seconds, 1),  # this session only, when a run was resumed
        "epochs_trained": trained,
        "final_loss": float(losses[-1]) if losses else None,
    }
