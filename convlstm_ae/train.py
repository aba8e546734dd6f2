"""Training the ConvLSTM autoencoder: the names the notebooks call.

``train(AEConfig(...))`` opens the dataset, holds out normal clips, fits the scaling on the
rest, streams 10-frame windows (temporal strides 1, 2 and 3 as normal data, or stride 1 with
skip-frame pseudo anomalies the model must not reproduce), trains with checkpoints and resume,
and derives the red-dot and frame thresholds from normal clips.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras

from convlstm_ae.model import PAPER_FILTERS, build_convlstm_ae
from regularity.datasets import Dataset, load_dataset
from regularity.preprocess import Normalizer, Scaling
from regularity.runs import peak_rss_mb, run_folder, save_config, update_metrics, write_json
from regularity.testing import InputSpec, ScoreSpec, normal_thresholds
from regularity.training import TimeBudget, fit, weight_averaging
from regularity.windows import SkipFrameAnomalies, Target, window_dataset

OUTPUT_ACTIVATION = {Scaling.UNIT: "sigmoid", Scaling.SYMMETRIC: "tanh", Scaling.STANDARD: None}


@dataclass
class AEConfig:
    """Every parameter of a training run (written to ``config.json``)."""

    dataset: str = "synthetic"
    data_root: str = "data"
    run_dir: str = "runs/convlstm_ae"
    size: tuple[int, int] = (256, 256)
    length: int = 10
    motion: bool = False
    scaling: str = Scaling.STANDARD.value
    skips: tuple[int, ...] = (1, 2, 3)
    pseudo_anomaly_rate: float = 0.0
    pseudo_anomaly_jumps: tuple[int, ...] = SkipFrameAnomalies.jumps
    window_stride: int = 1
    epochs: int = 3
    batch_size: int = 4
    learning_rate: float = 1e-3
    # Test with a moving average of the weights over about this many epochs (Polyak
    # averaging), not the last step's: 0 keeps the last step's weights.
    average_epochs: float = 0.0
    filters: tuple[int, ...] = PAPER_FILTERS
    normalization: str | None = "layer"
    dtype_policy: str | None = None
    val_clips: int = 1
    # Normal clips the red-dot and frame thresholds come from: "normal" (training and held-out:
    # the whole range of crowd density, at the price of in-sample errors on the training clips)
    # or "held_out" (unseen, but one or two clips of one density).
    thresholds_from: str = "normal"
    max_minutes: float | None = None
    seed: int = 0
    score: ScoreSpec = field(default_factory=ScoreSpec)

    def __post_init__(self) -> None:
        # Checked here, not after an hour of training when the thresholds are derived.
        if self.thresholds_from not in ("normal", "held_out"):
            raise ValueError(
                f"thresholds_from must be 'normal' or 'held_out', not {self.thresholds_from!r}"
            )

    def pseudo_anomalies(self) -> SkipFrameAnomalies | None:
        """The skip-frame pseudo anomalies of training, None when the rate is 0."""
        if not self.pseudo_anomaly_rate:
            return None
        return SkipFrameAnomalies(self.pseudo_anomaly_rate, tuple(self.pseudo_anomaly_jumps))

    def input_spec(self) -> InputSpec:
        """The input spec testing must reproduce."""
        return InputSpec(size=tuple(self.size), motion=self.motion)

    def to_dict(self) -> dict:
        """Plain dict with the keys `regularity.testing.evaluate_run` reads."""
        data = asdict(self)
        data.update(model="convlstm_ae", target=Target.SAME.value, input=asdict(self.input_spec()))
        data["score"].pop("thresholds")
        return data


def _prepare(videos: list, config: AEConfig) -> list:
    spec, clips = config.input_spec(), []
    for video in videos:
        clips.append(spec.prepare(video.frames))
        video.release()  # keep only the resized copy
    return clips


def _first_held_out(dataset: Dataset, config: AEConfig) -> int:
    return len(dataset.train) - max(0, min(config.val_clips, len(dataset.train) - 1))


def get_training_data(dataset: Dataset, config: AEConfig) -> tuple[list, list]:
    """Prepared uint8 clips for training and the held-out normal clips (the last ones)."""
    clips = _prepare(dataset.train, config)
    cut = _first_held_out(dataset, config)
    return clips[:cut], clips[cut:]


def create_networks(config: AEConfig, channels: int, steps_per_epoch: int = 1) -> keras.Model:
    """The compiled autoencoder for ``config`` (MSE on the input scale, Adam).

    ``steps_per_epoch`` turns ``config.average_epochs`` into the moving average's momentum.
    """
    model = build_convlstm_ae(
        (config.length, *config.size, channels),
        filters=tuple(config.filters),
        normalization=config.normalization,
        output_activation=OUTPUT_ACTIVATION[Scaling(config.scaling)],
        dtype_policy=config.dtype_policy,
    )
    optimizer = keras.optimizers.Adam(
        config.learning_rate,
        clipnorm=1.0,
        **weight_averaging(config.average_epochs, steps_per_epoch),
    )
    model.compile(optimizer=optimizer, loss="mse")
    return model


def train(
    config: AEConfig,
    strategy: object = None,
    dataset: Dataset | None = None,
    verbose: int | str = "auto",
) -> keras.Model:
    """Train (or resume) a run and leave model, history, thresholds and config in its folder.

    Args:
        config: the run's parameters.
        strategy: a ``tf.distribute`` strategy (default: the current one).
        dataset: an already opened dataset (default: opened from the config).
        verbose: Keras progress output.

    Returns:
        The trained model.

    """
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    run_dir = run_folder(config.run_dir)
    save_config(run_dir, config.to_dict())
    dataset = dataset or load_dataset(config.dataset, root=config.data_root)
    train_clips, held_out = get_training_data(dataset, config)
    normalizer = Normalizer.fit(train_clips, config.scaling)
    normalizer.save(run_dir / "normalizer.npz")
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    windows = window_dataset(
        train_clips,
        config.length,
        normalizer,
        config.batch_size * replicas,
        stride=config.window_stride,
        skips=config.skips,
        seed=config.seed,
        drop_remainder=replicas > 1,
        pseudo_anomalies=config.pseudo_anomalies(),
        motion=config.motion,
    )
    validation = None
    if held_out:
        validation = window_dataset(
            held_out,
            config.length,
            normalizer,
            config.batch_size,
            stride=config.length,
            shuffle=False,
        )
    channels, train_frames = train_clips[0].shape[-1], sum(len(c) for c in train_clips)
    held_out_frames = sum(len(c) for c in held_out)
    del train_clips, held_out  # the dataset holds its own copy: keep one, not two, while training
    with strategy.scope():
        model = create_networks(config, channels, int(windows.cardinality()))
    budget = [TimeBudget(config.max_minutes)] if config.max_minutes else []
    info = fit(model, windows, run_dir, config.epochs, validation, budget, verbose=verbose)
    peak_train = round(peak_rss_mb())
    derive_thresholds(config, model, dataset)
    update_metrics(
        run_dir,
        dataset=config.dataset,
        model="convlstm_ae",
        **info,
        train_frames=train_frames,
        held_out_frames=held_out_frames,
        peak_rss_mb_train=peak_train,
    )
    return model


def derive_thresholds(config: AEConfig, model: keras.Model, dataset: Dataset) -> dict:
    """Write ``thresholds.json`` from the run's normal clips (no test labels).

    Called after training, and again when a trained run is scored another way (`config.score`).
    """
    run_dir = Path(config.run_dir)
    if config.thresholds_from == "normal":
        start, kind = 0, "normal (training and held-out)"
    else:
        # Without held-out clips the last training clip stands in: thresholds need normal data.
        start = min(_first_held_out(dataset, config), len(dataset.train) - 1)
        kind = "held-out normal"
    threshold_clips = _prepare(dataset.train[start:], config)
    normalizer = Normalizer.load(run_dir / "normalizer.npz")
    thresholds = normal_thresholds(
        model, threshold_clips, normalizer, config.score, config.length, kind=kind
    )
    write_json(run_dir / "thresholds.json", thresholds)
    return thresholds
