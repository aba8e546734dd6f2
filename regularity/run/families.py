"""The family contract and registry: what a model family gives the run pipeline, checked once.

A family is a `Family`: its name, its config class (a `RunConfig` subclass whose ``model``
default is the family's name and whose ``recipes`` are its declared runs) and a builder::

    build(config, input_shape, steps_per_epoch) -> compiled keras.Model

returning one network, or a `regularity.nets.Trainer` (its own ``train_step``; it names the
network testing scores, its second scorers, its failure check and its extra plots). An
installed package registers its families through the ``regularity.families`` entry point group
in its ``pyproject.toml`` (one line each)::

    [project.entry-points."regularity.families"]
    convlstm_ae = "convlstm_ae.autoencoder:FAMILY"

`register_family` checks the contract when a family registers; training (`train_run`) and
evaluation find a run's family, and so its own config class, by the config's ``model`` field.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from regularity.errors import ParameterError
from regularity.run.config import RunConfig, read_run_json

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, Family] = {}


class FamilyError(TypeError):
    """A family does not fill in the contract (the message says what is missing)."""


@dataclass(frozen=True)
class Family:
    """A model family: its name, config class, builder and a line saying what it is."""

    name: str
    config: type[RunConfig]
    build: Callable
    description: str = ""
    # ``match(run_dir, clips, out_dir) -> [answer]``: whether each clip performs what the run
    # learned (`python -m regularity match`); None for a family that detects anomalies only.
    match: Callable | None = None

    @property
    def recipes(self) -> dict[str, dict]:
        """The declared recipes (``config.recipes``): name -> config fields."""
        return self.config.recipes

    def declared(self, dataset: str, runs_root: str | Path = "runs", **overrides: object):  # noqa: ANN201
        """The declared run of ``dataset``: its recipe, in ``runs/<family>_<dataset>``."""
        if dataset not in self.recipes:
            raise KeyError(f"family {self.name!r} declares no run of {dataset!r}")
        run_dir = str(Path(runs_root) / f"{self.name}_{dataset}")
        return self.config.from_recipe(self.recipes[dataset], run_dir=run_dir, **overrides)

    def check(self) -> None:
        """Raises `FamilyError` where the family does not fill in the contract."""
        if not (isinstance(self.config, type) and issubclass(self.config, RunConfig)):
            raise FamilyError(f"family {self.name!r}: config must be a RunConfig subclass")
        default = {f.name: f.default for f in fields(self.config)}["model"]
        if default != self.name:
            raise FamilyError(
                f"family {self.name!r}: {self.config.__name__}.model defaults to {default!r}; "
                "it must be the family's name (a run's config.json finds its family by it)"
            )
        try:
            inspect.signature(self.build).bind(None, (), 1)
        except (TypeError, ValueError) as error:
            raise FamilyError(
                f"family {self.name!r}: build must take (config, input_shape, steps_per_epoch)"
            ) from error
        for name, recipe in self.recipes.items():
            if recipe.get("model", self.name) != self.name:
                raise FamilyError(f"family {self.name!r}: recipe {name!r} is another family's")


def register_family(family: Family) -> Family:
    """Check the contract (`Family.check`), then add (or replace) the family in the registry."""
    family.check()
    _REGISTRY[family.name] = family
    return family


@cache
def _load_installed_families() -> None:
    # Once per process: every loader asks for the registry (custom layers register on import),
    # and reading the installed packages' metadata each time would be I/O for nothing.
    for point in entry_points(group="regularity.families"):
        if point.name not in _REGISTRY:
            try:
                register_family(point.load())
            except ImportError as error:  # one broken family must not hide the others
                logger.warning("family %s could not be loaded: %s", point.name, error)


def families() -> dict[str, Family]:
    """Every registered family, installed packages' entry points included."""
    _load_installed_families()
    return dict(_REGISTRY)


def family_of(name: str) -> Family:
    """The registered family called ``name`` (a config's ``model``), or a KeyError listing all."""
    known = families()
    if name not in known:
        raise KeyError(f"no family {name!r} is registered; known: {', '.join(sorted(known))}")
    return known[name]


def load_config(run_dir: str | Path) -> RunConfig:
    """A run's config, read by its own family's config class (so its checks run too).

    A run of a family that is not registered here is read as a plain `RunConfig`.
    """
    stored = read_run_json(run_dir)
    known = families()
    config_class = known[stored["model"]].config if stored.get("model") in known else RunConfig
    return config_class.from_run(run_dir, stored)


def recipe_config(
    family: str,
    recipe: str,
    run_dir: str | Path | None = None,
    settings: dict | None = None,
) -> RunConfig:
    """A family's declared recipe as a config, some fields changed (dotted keys allowed).

    ``run_dir`` defaults to ``runs/<family>_<recipe>``. A wrong family, recipe, field or value
    is a `ParameterError` that names it.
    """
    where = f"{family}/{recipe}"
    try:
        found = family_of(family)
    except KeyError as error:
        raise ParameterError(family, error.args[0]) from error
    if recipe not in found.recipes:
        known = ", ".join(sorted(found.recipes))
        raise ParameterError(where, f"family {family!r} has no recipe {recipe!r}; known: {known}")
    run_dir = run_dir or f"runs/{family}_{recipe}"
    try:
        return found.config.from_recipe(
            found.recipes[recipe], **{**(settings or {}), "run_dir": str(run_dir)}
        )
    except (TypeError, ValueError) as error:
        raise ParameterError(where, f"bad setting: {error}") from error
