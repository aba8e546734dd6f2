"""One name per dataset: ``load_dataset("ped2", root="data/")``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from regularity.data.base import Color, Dataset, write_once
from regularity.data.figures import write_movement_strips
from regularity.data.motion import read_motion_clips
from regularity.data.strips import read_strips
from regularity.data.synthetic import FOLDER, WalkwaySpec, generate_walkway
from regularity.data.ucsd import find_ucsd, read_ucsd_official
from regularity.data.videos import read_avenue, read_video_folder
from regularity.errors import MissingDataError, UnknownDatasetError


def _synthetic(root: Path, color: Color, **spec: object) -> Dataset:
    # Without options, whatever walkway is already there is read (tests keep smaller ones);
    # with options, the walkway is regenerated unless it was made from the same spec.
    existing = root / FOLDER
    if not spec and (existing / "spec.json").is_file():
        return read_ucsd_official(existing, color)
    return read_ucsd_official(generate_walkway(root, WalkwaySpec(**spec)), color)


def _avenue(root: Path, color: Color, strict: bool = True) -> Dataset:
    for folder in (root, root / "avenue", root / "Avenue Dataset", root / "Avenue_Dataset"):
        if (folder / "training_videos").is_dir():
            return read_avenue(folder, color, strict)
    raise MissingDataError(root, "no CUHK Avenue here (expected training_videos/)")


def _ucf101(root: Path, color: Color, strict: bool = True) -> Dataset:
    for folder in (root / "UCF-101", root / "ucf101", root):
        if folder.is_dir() and any(folder.glob("**/v_*_g*_c*.avi")):
            return read_video_folder(folder, color, name="ucf101", strict=strict)
    raise MissingDataError(root, "no UCF-101 clips here (v_<Class>_gXX_cYY.avi)")


def _strips(root: Path, color: Color, normal: str = "wave1", **options: object) -> Dataset:
    folder = root / "weizmann_strips" if (root / "weizmann_strips").is_dir() else root
    return read_strips(folder, normal, color, **options)


def _figures(
    root: Path, color: Color, normal: str = "wave", holdout: int = 3, **spec: object
) -> Dataset:
    # The synthetic movements are written once per spec (clips, frames, size, seed) and read by
    # the strip reader: one movement normal, the last ``holdout`` clips of each held out.
    import json

    spec = {"clips_per_movement": 9, "frames": 32, "size": 64, "seed": 0, **spec}
    stamp = json.dumps(spec, sort_keys=True)
    folder = write_once(root / "figures", stamp, lambda into: write_movement_strips(into, **spec))
    return read_strips(folder, normal, color, holdout=holdout, frame_width=spec["size"])


DATASETS: dict[str, tuple[Callable[..., Dataset], Color]] = {
    "synthetic": (_synthetic, Color.GREY),
    "ped1": (lambda root, color: find_ucsd(root, "ped1", color), Color.GREY),
    "ped2": (lambda root, color: find_ucsd(root, "ped2", color), Color.GREY),
    "avenue": (_avenue, Color.GREY),
    "ucf101": (_ucf101, Color.RGB),
    "videos": (lambda root, color, **o: read_video_folder(root, color, **o), Color.RGB),
    "strips": (_strips, Color.RGB),
    "motion": (read_motion_clips, Color.RGB),
    "figures": (_figures, Color.GREY),
}


def available_datasets() -> list[str]:
    """The names `load_dataset` knows."""
    return sorted(DATASETS)


def load_dataset(
    name: str, root: str | Path = "data", color: Color | str | None = None, **options: object
) -> Dataset:
    """Open a dataset by name.

    Args:
        name: one of `available_datasets` ("synthetic", "ped1", "ped2", "avenue", "ucf101",
            "videos", "strips").
        root: data root (``data/`` by default) or the dataset folder itself.
        color: "grey" or "rgb"; each dataset has its own default.
        **options: reader options (for "synthetic": `WalkwaySpec` fields such as ``seed``; for
            the video datasets: ``strict``; for "strips": ``normal`` (default "wave1"),
            ``holdout``, ``test_files``, ``frame_width``, see `read_strips`).

    Returns:
        The dataset; frames are decoded on first use.

    Raises:
        UnknownDatasetError: the name is not registered.
        MissingDataError: the dataset is not under ``root``.

    """
    key = name.lower()
    if key not in DATASETS:
        raise UnknownDatasetError(
            f"unknown dataset '{name}'; known: {', '.join(available_datasets())}"
        )
    reader, default_color = DATASETS[key]
    return reader(Path(root), Color(color or default_color), **options)
