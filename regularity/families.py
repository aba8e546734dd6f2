"""The registry of model families: each says how to build its model and which runs it declares.

A family registers a `Family` (its config class, its builder and its declared recipes, one per
dataset) either at run time with `register_family` or, for an installed package, through the
``regularity.families`` entry point group in its ``pyproject.toml``::

    [project.entry-points."regularity.families"]
    convlstm_ae = "convlstm_ae:FAMILY"

The leaderboard evaluates every registered family's declared run of a dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from regularity.config import RunConfig

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, Family] = {}


@dataclass(frozen=True)
class Family:
    """A model family: what `regularity.pipeline.train_run` needs, and its declared recipes."""

    name: str
    config: type[RunConfig]
    build_model: Callable
    recipes: dict[str, dict] = field(default_factory=dict)  # dataset -> config fields
    description: str = ""

    def declared(self, dataset: str, runs_root: str | Path = "runs", **overrides: object):  # noqa: ANN201
        """The declared run of ``dataset``: its recipe, in ``runs/<family>_<dataset>``."""
        if dataset not in self.recipes:
            raise KeyError(f"family {self.name!r} declares no run of {dataset!r}")
        run_dir = str(Path(runs_root) / f"{self.name}_{dataset}")
        return self.config.from_recipe(self.recipes[dataset], run_dir=run_dir, **overrides)


def register_family(family: Family) -> Family:
    """Add (or replace) a family in the registry."""
    _REGISTRY[family.name] = family
    return family


def families() -> dict[str, Family]:
    """Every registered family, installed packages' entry points included."""
    for point in entry_points(group="regularity.families"):
        if point.name not in _REGISTRY:
            try:
                register_family(point.load())
            except ImportError as error:  # one broken family must not hide the others
                logger.warning("family %s could not be loaded: %s", point.name, error)
    return dict(_REGISTRY)
