"""The run configuration every model family shares, validated when made, stored once per run.

A family's config is a subclass of `RunConfig` that adds its own fields (filters, loss weights)
and, where it needs them, overrides the hooks (`validate`, `batch_transform`,
`augmentation`). ``config.json`` holds ``to_dict()``; `RunConfig.from_run` reads it back,
including runs saved before the window contract existed (``length`` and ``target``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import ClassVar

from regularity.data import Dataset, load_dataset
from regularity.data.preprocess import InputSpec, Scaling
from regularity.data.windows import SkipFrameAnomalies, WindowSpec, check_pseudo_anomalies
from regularity.errors import DataError, RegularityError
from regularity.run.files import portable_path, project_path, read_json, save_config, to_plain
from regularity.score.scoring import ScoreSpec, error_weights, view_specs

# Fields that may differ when a run is resumed or rescored: they change neither the model nor
# the data it is trained on.
NOT_IDENTITY = frozenset({"run_dir", "epochs", "max_minutes", "score", "thresholds_from", "cache"})


class RunMissingError(RegularityError, FileNotFoundError):
    """A run folder, or its ``config.json``, is not there."""


class ConfigMismatchError(RegularityError):
    """A run folder holds a run made with another configuration."""


@dataclass
class RunConfig:
    """Every parameter of a training run (written to ``config.json``)."""

    recipes: ClassVar[dict[str, dict]] = {}  # a family's declared recipes (`recipe`)

    model: str = "model"  # the family's registered name
    dataset: str = "synthetic"
    data_root: str = "data"
    dataset_options: dict = field(default_factory=dict)  # reader options (`load_dataset`)
    run_dir: str = "runs/run"
    size: tuple[int, int] = (256, 256)
    color: str = "grey"
    motion: bool | str = False  # True (|I_t - I_t-1|), "flow" or "both" (`MotionInput`)
    scaling: str = Scaling.STANDARD.value
    window: WindowSpec = field(default_factory=WindowSpec)
    skips: tuple[int, ...] = (1,)  # temporal strides trained as normal motion
    # Share of training windows whose inputs jump frames (`SkipFrameAnomalies`; 0: none).
    pseudo_anomaly_rate: float = 0.0
    pseudo_anomaly_jumps: tuple[int, ...] = SkipFrameAnomalies.jumps
    window_stride: int = 1
    batch_size: int = 4
    epochs: int = 3
    max_minutes: float | None = None  # stop after the epoch that crosses it
    learning_rate: float = 1e-3
    # Test with the weights' moving average over about this many epochs (0: the last step's).
    average_epochs: float = 0.0
    dtype_policy: str | None = None
    val_clips: int = 1  # last normal clips held out of training
    # Normal clips the thresholds come from: "normal" (training and held-out: the whole range
    # of crowd density, in-sample on the training clips) or "held_out" (unseen, but few).
    thresholds_from: str = "normal"
    cache: bool = False  # stream training windows from a uint8 file, not memory
    seed: int = 0
    score: ScoreSpec = field(default_factory=ScoreSpec)

    def __post_init__(self) -> None:
        self.size = tuple(int(v) for v in self.size)
        self.skips = tuple(int(v) for v in self.skips)
        self.pseudo_anomaly_jumps = tuple(int(v) for v in self.pseudo_anomaly_jumps)
        self.window = WindowSpec.of(self.window)
        check_pseudo_anomalies(self.pseudo_anomalies(), self.window, self.skips)
        if isinstance(self.score, dict):
            self.score = ScoreSpec(**self.score)
        Scaling(self.scaling)
        self.motion = self.input_spec().motion  # checked, and spelt one way per kind
        # the channels a score names must be the input's: refused here, not after training
        scores = {"score": self.score}
        scores.update((f"score.views[{i}]", v) for i, v in enumerate(view_specs(self.score)))
        for where, score in scores.items():
            try:
                error_weights((1, 1, self.input_spec().channels), 1.0, "input", score.channels,
                              self.motion)  # fmt: skip
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from error
        if self.thresholds_from not in ("normal", "held_out"):
            raise ValueError(
                f"thresholds_from must be 'normal' or 'held_out', not {self.thresholds_from!r}"
            )
        if self.epochs < 1 or self.batch_size < 1 or self.window_stride < 1:
            raise ValueError("epochs, batch_size and window_stride must be 1 or more")
        self.validate()

    def validate(self) -> None:
        """Family checks that must fail before any data is loaded (frame size, ...)."""

    def held_out_start(self, n_train: int) -> int:
        """Index of the first of ``n_train`` normal clips held out (one is always trained)."""
        return n_train - max(0, min(self.val_clips, n_train - 1))

    def held_out_clips(self, dataset: Dataset) -> list:
        """The held-out normal clips (`held_out_start`); without any, the last training clip."""
        return dataset.train[min(self.held_out_start(len(dataset.train)), len(dataset.train) - 1) :]

    def open_dataset(self) -> Dataset:
        """The run's dataset, in the run's colour (frames decoded on first use)."""
        return load_dataset(
            self.dataset, root=self.data_root, color=self.color, **self.dataset_options
        )

    def input_shape(self) -> tuple[int, int, int, int]:
        """One input window: (frames, height, width, channels)."""
        return (self.window.inputs, *self.size, self.input_spec().channels)

    def input_spec(self) -> InputSpec:
        """What testing must reproduce of the inputs."""
        return InputSpec(size=self.size, color=self.color, motion=self.motion)

    def pseudo_anomalies(self) -> SkipFrameAnomalies | None:
        """Skip-frame pseudo anomalies of training (`regularity.data.windows`), None at rate 0."""
        if not self.pseudo_anomaly_rate:
            return None
        return SkipFrameAnomalies(self.pseudo_anomaly_rate, self.pseudo_anomaly_jumps)

    def batch_transform(self) -> object:
        """A per-batch ``(inputs, targets, rng) -> (inputs, targets)`` NumPy function, or None.

        ``rng``: the batch's own ``numpy.random.Generator`` (`regularity.data.windows`).
        """
        return None

    def augmentation(self) -> object:
        """Like `batch_transform`, for training batches only (before it), or None."""
        return None

    def to_dict(self) -> dict:
        """Plain dict for ``config.json`` (each value once)."""
        data = dataclasses.asdict(self)
        data["window"]["target"] = self.window.target.value
        data["score"].pop("thresholds")
        return data

    def save(self) -> Path:
        """Write ``config.json`` into the run folder, its paths portable (`portable_path`)."""
        stored = self.to_dict()
        stored.update(data_root=portable_path(self.data_root), run_dir=portable_path(self.run_dir))
        return save_config(self.run_dir, stored)

    def identity(self) -> dict:
        """The fields that make two runs the same run (what resuming must not change)."""
        plain = to_plain(self.to_dict())  # tuples and lists alike
        plain["data_root"] = str(project_path(self.data_root))  # "../x" and "/a/x" alike
        return {k: v for k, v in plain.items() if k not in NOT_IDENTITY}

    def replace(self, **changes: object) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict, strict: bool = False) -> RunConfig:
        """A config from ``config.json``'s dict; unknown keys raise only when ``strict``."""
        data = dict(data)
        if "window" not in data and "length" in data:
            # Saved before the window contract: ``length`` frames in, ``target`` out.
            # (a predictor's ``length`` counted its target: it saw ``length - 1`` frames)
            target = data.get("target", "same")
            inputs = data["length"] - 1 if target == "next" else data["length"]
            data["window"] = {"target": target, "inputs": inputs}
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"length", "target", "input", "versions"}
        if strict and unknown:
            raise ValueError(f"unknown config fields for {cls.__name__}: {sorted(unknown)}")
        if "input" in data:  # older runs stored size and colour a second time
            data.setdefault("color", data["input"].get("color", "grey"))
            data.setdefault("motion", data["input"].get("motion", False))
        values = {k: v for k, v in data.items() if k in known}
        if "score" in values:
            score_fields = {f.name for f in fields(ScoreSpec)}
            values["score"] = ScoreSpec(
                **{k: v for k, v in values["score"].items() if k in score_fields}
            )
        return cls(**values)

    @classmethod
    def from_run(cls, run_dir: str | Path, stored: dict | None = None) -> RunConfig:
        """The config stored in a run folder (its ``run_dir`` is where it was found).

        ``stored``: its ``config.json``, where the caller has read it already.
        """
        stored = dict(stored) if stored is not None else read_run_json(run_dir)
        # A relative data root was written from the project root: read it from there too.
        stored["data_root"] = str(project_path(stored.get("data_root", "data")))
        try:
            return cls.from_dict({**stored, "run_dir": str(run_dir)})
        except (ValueError, TypeError) as error:
            raise DataError(
                Path(run_dir) / "config.json", f"not a run configuration: {error}"
            ) from error

    @classmethod
    def recipe(cls, name: str, settings: dict | None = None, **parameters: object) -> RunConfig:
        """A declared recipe (``cls.recipes``) with some fields changed.

        Args:
            name: the recipe.
            settings: fields applied as given (``{"average_epochs": 0}``; None is kept as None).
            **parameters: a notebook's named parameters: one left at None keeps the recipe's
                value.

        Paths start at the project root (`RunConfig.from_recipe`).

        """
        if name not in cls.recipes:
            raise KeyError(f"unknown recipe {name!r}; known: {', '.join(sorted(cls.recipes))}")
        given = {k: v for k, v in parameters.items() if v is not None}
        return cls.from_recipe(cls.recipes[name], **given, **(settings or {}))

    @classmethod
    def from_recipe(cls, recipe: dict, **settings: object) -> RunConfig:
        """A declared recipe with some fields changed (`with_settings`; dotted keys allowed).

        Relative ``data_root`` and ``run_dir`` are taken from the project root (`project_path`),
        so that a notebook, a script and the leaderboard find the same folders wherever they
        start.
        """
        fields = with_settings(recipe, settings)
        for key in ("data_root", "run_dir"):
            if key in fields:
                fields[key] = str(project_path(fields[key]))
        return cls.from_dict(fields, strict=True)


def read_run_json(run_dir: str | Path) -> dict:
    """A run folder's ``config.json`` as a dict.

    An error names the file when it is absent or not JSON.
    """
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise RunMissingError(
            f"{run_dir}: no trained run here ({path.name} is missing); train it first "
            "(python -m regularity train FAMILY --run-dir RUN, or the family's training "
            "notebook)"
        )
    if not path.read_text().strip():
        raise DataError(path, "is empty: not a run configuration (the run cannot be read)")
    try:
        stored = read_json(path)
    except ValueError as error:  # JSONDecodeError
        raise DataError(path, f"not valid JSON: {error}") from error
    if not isinstance(stored, dict) or "model" not in stored:
        raise DataError(path, "holds no run configuration (no 'model' field)")
    return stored


def check_resumable(config: RunConfig, overwrite: bool = False) -> bool:
    """Whether ``config.run_dir`` holds this run, interrupted; refuses anything else there.

    Returns:
        True when the folder holds an interrupted run with the same identity (resume there);
        False for an empty folder or with ``overwrite``.

    Raises:
        ConfigMismatchError: the stored run differs in a field that changes the model or data
            (the message names the fields and the two ways out), or it is finished.

    """
    run_dir = Path(config.run_dir)
    path = run_dir / "config.json"
    if overwrite or not path.is_file():
        return False
    stored = type(config).from_run(run_dir).identity()
    differing = {k: (stored.get(k), v) for k, v in config.identity().items() if stored.get(k) != v}
    if differing:
        listed = "; ".join(f"{k}: stored {a!r}, asked {b!r}" for k, (a, b) in differing.items())
        raise ConfigMismatchError(
            f"{config.run_dir} holds a run made with another configuration ({listed}). "
            "Use a new run folder, or pass overwrite=True (--overwrite; -p overwrite true for a "
            "training notebook) to start this one again and discard the stored run."
        )
    finished = all((run_dir / name).is_file() for name in ("model.keras", "thresholds.json"))
    if finished and not (run_dir / "checkpoints" / "backup").exists():
        raise ConfigMismatchError(
            f"{config.run_dir} holds a finished run of this configuration: training again would "
            "overwrite its model and results. Evaluate it, use a new run folder, or pass "
            "overwrite=True (--overwrite; -p overwrite true for a training notebook) to train it "
            "again from the start."
        )
    return True


def with_settings(fields: dict, settings: dict) -> dict:
    """Config fields with ``settings`` applied; dotted keys reach into ``score`` and ``window``.

    >>> with_settings({"score": {"aggregate": "sum"}}, {"score.aggregate": "patch_max"})
    {'score': {'aggregate': 'patch_max'}}
    """
    fields = {k: dict(v) if isinstance(v, dict) else v for k, v in fields.items()}
    for key, value in settings.items():
        head, _, tail = key.partition(".")
        if tail:
            part = fields.get(head)
            part = dataclasses.asdict(part) if dataclasses.is_dataclass(part) else dict(part or {})
            fields[head] = {**part, tail: value}
        else:
            fields[head] = value
    return fields
