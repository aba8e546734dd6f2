"""Video regularity: the model-agnostic core of the suite, by stage.

``data`` (datasets, preprocessing, clip store, windows) -> ``score`` (inference, frame scores,
red dots, metrics, prediction quality) -> ``run`` (config, the family contract, training,
evaluation, leaderboard) -> ``show`` (videos, plots, previews, reports); ``nets`` holds the
network pieces families share. The names below are the public facade, so that a notebook needs
one import::

    from regularity import evaluate_run, recipe_config, train_run

They are loaded on first use: importing the package only quietens TensorFlow's start-up
and caps malloc's arenas.
"""

import importlib
import os

# Before anything imports TensorFlow: without a GPU, its CUDA probe logs errors (level 2) into
# every notebook; with one, warnings and above are kept. A value already set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if os.path.exists("/dev/nvidiactl") else "3")


_M_ARENA_MAX = -8  # glibc's malloc.h


def usable_cores() -> int:
    """Cores this process may run on: its affinity where the system keeps one, else all."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _limit_malloc_arenas() -> None:
    """One glibc malloc arena per usable core instead of eight per core.

    TensorFlow's worker threads each take an arena and keep what they freed in it; on two cores
    that cost the UCSD GAN's training about 0.45 GiB of resident memory, with the same epochs in
    the same time (docs/experiments.md, "Memory"). It must run before those threads start: glibc
    fixes its limit once a process has nine arenas. A cap the user set (``MALLOC_ARENA_MAX`` or
    ``GLIBC_TUNABLES``) wins; elsewhere than glibc there is nothing to set.
    """
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    user_set = "MALLOC_ARENA_MAX" in os.environ or "arena_max" in tunables
    if user_set or not hasattr(os, "sched_getaffinity"):
        return
    import ctypes

    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the process's own C library
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, usable_cores())


_limit_malloc_arenas()

__version__ = "0.1.0"


def tensorflow_installed() -> bool:
    """Whether TensorFlow can be imported here (not on a JAX-only machine), without importing it."""
    from importlib.util import find_spec

    try:
        return find_spec("tensorflow") is not None
    except ImportError:
        return False


_FACADE = {
    "regularity.data": ("Dataset", "Video", "WalkwaySpec", "available_datasets", "load_dataset"),
    "regularity.data.fetch": ("fetch", "open_dataset"),
    "regularity.data.windows": ("Target", "WindowSpec"),
    "regularity.score.scoring": ("ScoreSpec",),
    "regularity.score.verdict": ("verdict_line",),
    "regularity.score.quality": ("prediction_table",),
    "regularity.run.config": ("RunConfig",),
    "regularity.run.families": (
        "Family", "families", "family_of", "load_config", "recipe_config", "register_family",
    ),
    "regularity.run.files": ("project_path", "read_json"),
    "regularity.run.pipeline": ("train_run",),
    "regularity.run.evaluation": (
        "derive_thresholds", "evaluate_run", "load_scorer", "rescore_settings", "score_any",
        "score_videos",
    ),
    "regularity.run.quality": ("prediction_report",),
    "regularity.run.leaderboard": ("leaderboard",),
    "regularity.show.media": ("contact_sheet", "show_clip", "write_gif"),
    "regularity.show.plots": ("generate_regularity_graph", "plot_prediction", "plot_roc"),
    "regularity.show.preview": ("preview_clips", "show_previews"),
}  # fmt: skip
_WHERE = {name: module for module, names in _FACADE.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'regularity' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
