"""Clips stored as frame strips, one folder per movement (Weizmann actions as MoCoGAN ships them).

Layout (one image per clip, frames side by side: frame i = columns 64*i .. 64*i+63)::

    weizmann_strips/
        wave1/00000002.jpg ...   one clip per file, each file a different performer
        wave2/00000000.jpg ...
        jack/00000004.jpg ...
        bend/00000006.jpg ...

One movement is normal. Clips are split by file, never by frame: in every movement the last
``holdout`` files (sorted by name) are held out for testing, so that when files are ordered by
performer the same performers are held out everywhere. Training holds the other clips of the
normal movement; testing holds the held-out clips of every movement, all frames labelled normal
(False) for the normal movement and abnormal (True) for the others.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from regularity.data.base import Color, Dataset, Video
from regularity.data.readers import list_images, read_frame_strip
from regularity.errors import CorruptFileError, MissingDataError


def movements(folder: Path) -> dict[str, list[Path]]:
    """The strips of each movement folder (hidden folders skipped), by movement name."""
    if not folder.is_dir():
        raise MissingDataError(folder, "folder of movements does not exist")
    return {
        d.name: list_images(d, contiguous=False)
        for d in sorted(folder.iterdir())
        if d.is_dir() and not d.name.startswith(".")
    }


def _labels(path: Path, frame_width: int, abnormal: bool) -> np.ndarray:
    try:  # the header gives the width: the frames are decoded later, on first use
        with Image.open(path) as image:
            width = image.width
    except (UnidentifiedImageError, OSError) as err:
        raise CorruptFileError(path, f"unreadable image ({err})") from err
    return np.full(width // frame_width, abnormal)


def strip_video(
    path: Path, movement: str, color: Color, frame_width: int, labels: np.ndarray | None = None
) -> Video:
    """One strip as a clip named ``<movement>_<file stem>``, decoded on first use."""
    return Video(
        name=f"{movement}_{path.stem}",
        source=str(path),
        load_frames=partial(read_frame_strip, path, frame_width, color),
        labels=labels,
        meta={"movement": movement},
    )


def read_strips(
    folder: str | Path,
    normal: str,
    color: Color | str = Color.RGB,
    holdout: int = 3,
    test_files: Collection[str] | None = None,
    frame_width: int = 64,
) -> Dataset:
    """Read a folder of movements stored as frame strips (module docstring).

    Args:
        folder: the folder of movement folders.
        normal: the movement that is normal (e.g. "wave1").
        color: "grey" or "rgb".
        holdout: how many files of each movement are held out for testing (the last ones).
        test_files: instead of ``holdout``, the held-out files as ``movement/file`` names.
        frame_width: width of one frame in a strip.

    Raises:
        MissingDataError: no such folder or movement, a ``test_files`` name that is not there,
            or no training clip left.

    """
    folder = Path(folder)
    color = Color(color)
    by_movement = movements(folder)
    if normal not in by_movement:
        raise MissingDataError(
            folder / normal, f"no such movement; found {', '.join(by_movement) or 'none'}"
        )
    if test_files is None:
        held = {
            f"{m}/{p.name}"
            for m, files in by_movement.items()
            for p in files[max(len(files) - holdout, 0) :]
        }
    else:
        held = set(test_files)
        unknown = held - {f"{m}/{p.name}" for m, files in by_movement.items() for p in files}
        if unknown:
            raise MissingDataError(folder, f"test files not found: {', '.join(sorted(unknown))}")
    train, test = [], []
    for movement, files in by_movement.items():
        for path in files:
            if f"{movement}/{path.name}" in held:
                labels = _labels(path, frame_width, abnormal=movement != normal)
                test.append(strip_video(path, movement, color, frame_width, labels))
            elif movement == normal:
                train.append(strip_video(path, movement, color, frame_width, None))
    if not train:
        raise MissingDataError(folder / normal, "every clip is held out: none left for training")
    return Dataset(name=folder.name, root=str(folder), train=train, test=test)
