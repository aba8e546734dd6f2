"""One run pipeline for every model family: ``train_run(config)`` -> run folder.

The config's family (`regularity.run.families`) supplies its builder; everything else is here:
opening the dataset, holding out normal clips, fitting the scaling, streaming windows under the
window contract, training with checkpoints, resume and the NaN stop, thresholds from normal
clips, and the metrics. Testing is `regularity.run.evaluation.evaluate_run`. The same call
trains on several machines under ``tf.distribute.MultiWorkerMirroredStrategy``: every worker
runs it, the chief writes the run folder (docs/distributed.md).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import keras

from regularity.data import Dataset
from regularity.data.clipstore import build_store, prepared_clips
from regularity.data.preprocess import Normalizer
from regularity.data.windows import WindowBatches, window_batches
from regularity.run.config import RunConfig, check_resumable
from regularity.run.distributed import current_strategy, is_chief, worker_count
from regularity.run.evaluation import derive_thresholds, load_scorer, trained_thresholds
from regularity.run.families import family_of
from regularity.run.files import peak_rss_mb, run_folder, update_metrics
from regularity.run.training import TimeBudget, fit

logger = logging.getLogger(__name__)

BuildModel = Callable[[RunConfig, tuple, int], keras.Model]
# What a fresh start removes from a run folder besides its figures (a resume keeps all of it).
RUN_OUTPUTS = (
    "checkpoints", "logs", "history.csv", "metrics.json", "model.keras", "cache",
    "normalizer.npz", "thresholds.json", "scores.csv", "videos", "graphs", "scorers",
)  # fmt: skip


def get_training_data(dataset: Dataset, config: RunConfig) -> tuple[object, object, dict]:
    """Stores of the prepared training and held-out clips, and their frame counts.

    With ``config.cache`` the clips go to a uint8 file in the run folder one at a time, so that
    memory does not grow with the dataset; otherwise they are kept in memory.
    """
    spec, cut = config.input_spec(), config.held_out_start(len(dataset.train))
    cache = Path(config.run_dir) / "cache" if config.cache else None
    train = build_store(
        prepared_clips(dataset.train[:cut], spec.prepare), cache and cache / "train"
    )
    held = dataset.train[cut:]
    held_out = None
    if held:  # none when every normal clip is trained on (val_clips=0, or one clip)
        held_out = build_store(prepared_clips(held, spec.prepare), cache and cache / "held_out")
    held_frames = sum(held_out.lengths) if held_out else 0
    return train, held_out, {"train_frames": sum(train.lengths), "held_out_frames": held_frames}


def training_windows(
    config: RunConfig,
    store: object,
    normalizer: Normalizer,
    replicas: int = 1,
    transform: bool = True,
) -> WindowBatches:
    """The shuffled training batches of a run: (inputs, targets) windows as the config says.

    ``replicas``: replicas in sync (each gets ``config.batch_size`` windows a step).
    ``transform``: apply the config's `RunConfig.augmentation`, then its
    `RunConfig.batch_transform` (False: neither, clean inputs).
    """
    steps = [config.augmentation(), config.batch_transform()] if transform else []
    steps = [step for step in steps if step is not None]

    def transformed(inputs, targets, rng):  # noqa: ANN001, ANN202
        for step in steps:
            inputs, targets = step(inputs, targets, rng)
        return inputs, targets

    return window_batches(
        store,
        config.window,
        normalizer,
        config.batch_size * replicas,
        stride=config.window_stride,
        skips=config.skips,
        seed=config.seed,
        drop_remainder=replicas > 1,
        pseudo_anomalies=config.pseudo_anomalies(),
        motion=config.motion,
        transform=transformed if steps else None,
    )


def validation_windows(
    config: RunConfig,
    store: object,
    normalizer: Normalizer,
    replicas: int = 1,
    drop_remainder: bool = False,
) -> WindowBatches | None:
    """Batches of disjoint windows of the held-out normal clips (None: too few for a batch).

    ``replicas``: replicas that share a batch (``config.batch_size`` windows each);
    ``drop_remainder``: no short last batch (several machines must step together).
    """
    validation = window_batches(
        store,
        config.window,
        normalizer,
        config.batch_size * replicas,
        stride=config.window.span,
        shuffle=False,
        drop_remainder=drop_remainder,
        transform=config.batch_transform(),
    )
    if len(validation) == 0:
        logger.warning("fewer held-out windows than one global batch: no validation loss")
        return None
    return validation


def train_run(
    config: RunConfig,
    dataset: Dataset | None = None,
    strategy: object = None,
    overwrite: bool = False,
    verbose: int | str = "auto",
    callbacks: list | None = None,
    thresholds: bool = True,
) -> keras.Model:
    """Train (or resume) a run and leave model, history, thresholds and config in its folder.

    Args:
        config: the run's parameters (a family's `RunConfig` subclass); its ``model`` names
            the registered family whose builder makes the network.
        dataset: an already opened dataset (default: opened from the config).
        strategy: a ``tf.distribute`` strategy (default: the current one). Under a multi-worker
            strategy every worker makes the same call; only the chief writes ``run_dir``.
        overwrite: start again in a folder that holds a run made another way.
        verbose: Keras progress output.
        callbacks: more Keras callbacks.
        thresholds: derive the thresholds from the normal clips here; False leaves them to a
            later `evaluate` (in a fresh process, without the training's heap).

    Returns:
        The trained model.

    Raises:
        ConfigMismatchError: the folder holds another run and ``overwrite`` is False.

    """
    strategy = strategy or current_strategy()
    build_model = family_of(config.model).build
    if is_chief(strategy):
        return _train_run(
            config, build_model, dataset, strategy, overwrite, verbose, callbacks, thresholds
        )
    # Another worker: the same training (in step with the chief), its files in a scratch folder.
    check_resumable(config, overwrite)  # refuses what the chief refuses, writes nothing
    scratch = tempfile.mkdtemp(prefix="regularity-worker-")
    try:
        local = config.replace(run_dir=scratch)
        shared = Path(config.run_dir)
        return _train_run(local, build_model, dataset, strategy, True, verbose, callbacks,
                          shared_dir=shared)  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _train_run(
    config: RunConfig,
    build_model: BuildModel,
    dataset: Dataset | None,
    strategy: object,
    overwrite: bool,
    verbose: int | str,
    callbacks: list | None,
    thresholds: bool = True,
    shared_dir: Path | None = None,
) -> keras.Model:
    """`train_run` into ``config.run_dir``; ``shared_dir``: the chief's, on another worker."""
    run_dir = Path(config.run_dir)
    if not check_resumable(config, overwrite):
        # A fresh start: nothing of an earlier run may mix in, a family's own figures included.
        figures = list(run_dir.glob("*.png")) if run_dir.is_dir() else []
        for target in [run_dir / name for name in RUN_OUTPUTS] + figures:
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    elif (run_dir / "model.keras").is_file() and not (run_dir / "checkpoints" / "backup").exists():
        # Trained, then stopped while its thresholds were derived: finish, do not retrain.
        model = load_scorer(run_dir)
        shutil.rmtree(run_dir / "cache", ignore_errors=True)  # stopped before training's removal
        if thresholds:
            trained_thresholds(run_dir, config, model, dataset)
        return model
    keras.utils.set_random_seed(config.seed)
    run_folder(run_dir)
    config.save()
    dataset = dataset or config.open_dataset()
    train, held_out, counts = get_training_data(dataset, config)
    normalizer = Normalizer.fit(train.clips(), config.scaling)
    normalizer.save(run_dir / "normalizer.npz")
    replicas = strategy.num_replicas_in_sync
    # On several machines every step all-reduces on each: no worker may have a batch more.
    workers = worker_count(strategy)
    windows = training_windows(config, train, normalizer, replicas)
    validation = None
    if held_out is not None:
        together = replicas if workers > 1 else 1
        validation = validation_windows(config, held_out, normalizer, together, workers > 1)
    with strategy.scope():
        model = build_model(config, config.input_shape(), len(windows))
    budget = [TimeBudget(config.max_minutes)] if config.max_minutes else []
    extra = budget + list(callbacks or [])
    # On another worker `fit` writes into a scratch folder of its own and resumes from the chief's.
    validation = validation and validation.dataset()
    run_to = shared_dir or run_dir
    info = fit(model, windows.dataset(), run_to, config.epochs, validation, extra, verbose)
    if shared_dir is not None:
        return model  # thresholds and metrics are the chief's
    # The windows' file is training's only: gone before the minutes of scoring normal clips.
    shutil.rmtree(run_dir / "cache", ignore_errors=True)
    peak_train = round(peak_rss_mb())
    update_metrics(
        run_dir,
        dataset=config.dataset,
        model=config.model,
        **info,
        **counts,
        peak_rss_mb_train=peak_train,
    )
    if thresholds:
        # Across machines the trained model predicts only in step with the others: the chief
        # scores the normal clips with the saved copy (the same weights) on its own.
        scorer = model if workers == 1 else keras.saving.load_model(run_dir / "model.keras")
        derive_thresholds(config, scorer, dataset)
    return model
