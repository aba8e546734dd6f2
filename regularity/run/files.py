"""Run folders: ``runs/<name>/`` with ``config.json``, ``metrics.json`` and everything else."""

from __future__ import annotations

import json
import math
import os
import platform
import resource
from enum import Enum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

PACKAGES = (
    "tensorflow",
    "keras",
    "numpy",
    "scikit-learn",
    "scikit-image",
    "opencv-python-headless",
)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def package_versions() -> dict[str, str]:
    """Versions of the packages a result depends on."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def to_plain(value: object) -> object:
    """JSON-ready values: NumPy and paths made plain, NaN and infinities as None (null).

    >>> to_plain({"auc": np.float64("nan"), "n": np.int64(3), "p": Path("a")})
    {'auc': None, 'n': 3, 'p': 'a'}
    """
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | Path, data: dict) -> Path:
    """Write ``data`` as indented, strict JSON (a missing figure is null, never NaN).

    The file is replaced whole, so that a reader (another worker) never sees half of it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_plain(data), indent=2, allow_nan=False) + "\n"
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    os.replace(partial, path)
    return path


def read_json(path: str | Path) -> dict:
    """Read a JSON file written by `write_json`."""
    return json.loads(Path(path).read_text())


def project_root(start: str | Path | None = None) -> Path:
    """The folder holding ``pyproject.toml``, looked for from ``start`` (the working folder) up.

    Falls back to ``start`` itself outside a project.
    """
    start = Path.cwd() if start is None else Path(start).absolute()
    return next((d for d in (start, *start.parents) if (d / "pyproject.toml").is_file()), start)


def project_path(path: str | Path) -> Path:
    """``path`` taken from the project root (`project_root`) when relative.

    So ``"data"`` means the same folder in a notebook stepped through in Jupyter (working folder
    ``notebooks/``) as from the command line at the root.

    >>> project_path("/tmp/x")  # absolute paths are kept
    PosixPath('/tmp/x')
    >>> project_path("../shared/data") == project_root().parent / "shared" / "data"
    True
    """
    path = Path(path)
    return path if path.is_absolute() else Path(os.path.normpath(project_root() / path))


def portable_path(path: str | Path) -> str:
    """A path as a run's files store it: from the project root when in or beside the project.

    ``runs/demo``, ``../shared/data``: a moved or copied clone's runs still read as the same
    configuration. A path elsewhere stays absolute. `project_path` reads either back.

    >>> portable_path(project_root() / "runs" / "demo"), portable_path("/elsewhere/x")
    ('runs/demo', '/elsewhere/x')
    """
    path = Path(os.path.normpath(Path(path).absolute()))
    root = project_root()
    for base, prefix in ((root, "."), (root.parent, "..")):
        if path.is_relative_to(base) and base != Path(base.anchor):
            return os.path.normpath(Path(prefix) / path.relative_to(base))
    return str(path)


def run_folder(name: str | Path, runs_root: str | Path = "runs") -> Path:
    """The folder of a run, created: a bare name goes under ``runs_root``, a path is kept.

    >>> import tempfile; root = tempfile.mkdtemp()
    >>> run_folder("demo", root) == Path(root, "demo"), run_folder(f"{root}/x/y").name
    (True, 'y')
    """
    path = Path(name)
    folder = path if len(path.parts) > 1 or path.is_absolute() else Path(runs_root) / path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_config(folder: str | Path, config: dict) -> Path:
    """Write ``config.json``: every parameter, the seed and the package versions."""
    return write_json(Path(folder) / "config.json", {**config, "versions": package_versions()})


def update_metrics(folder: str | Path, **fields: object) -> dict:
    """Merge ``fields`` into ``metrics.json`` (training and testing each add their part)."""
    path = Path(folder) / "metrics.json"
    metrics = read_json(path) if path.is_file() else {}
    metrics = to_plain({**metrics, **fields})
    write_json(path, metrics)
    return metrics
