"""Real motion for frame prediction: UCF-101 clips and Weizmann strips, split by clip.

Under a data root (``../shared/data``)::

    ucf101/v_<Class>_gXX_cYY.avi        any number of UCF-101 clips (RGB, 320x240)
    weizmann_strips/<movement>/*.jpg    one clip per file, frames side by side (64x64)

Clips moving less than ``min_motion`` (`regularity.data.preprocess.motion_energy`, the RMS change
between consecutive frames in 0-255 levels, every channel, at the clip's own size) are dropped
and named in ``Dataset.dropped``; of the rest,
every ``test_every``-th clip (sorted by source, so that each movement has its share) is held out
whole for testing. No labels: these are for prediction, not detection.
"""

from __future__ import annotations

from pathlib import Path

from regularity.data.base import Color, Dataset, Video
from regularity.data.strips import movements, strip_video
from regularity.data.videos import read_video_folder
from regularity.errors import MissingDataError


def _strip_clips(folder: Path, color: Color, frame_width: int = 64) -> list[Video]:
    return [
        strip_video(path, movement, color, frame_width)
        for movement, paths in movements(folder).items()
        for path in paths
    ]


def read_motion_clips(
    root: str | Path,
    color: Color | str = Color.RGB,
    min_motion: float = 2.0,
    test_every: int = 4,
) -> Dataset:
    """Every UCF-101 clip and Weizmann strip under ``root`` (module docstring).

    Raises:
        MissingDataError: neither kind of clip is there, or none moves enough.

    """
    root, color = Path(root), Color(color)
    clips: list[Video] = []
    if (root / "ucf101").is_dir():
        ucf = read_video_folder(root / "ucf101", color, name="ucf101")
        clips += ucf.train + ucf.test
    if (root / "weizmann_strips").is_dir():
        clips += _strip_clips(root / "weizmann_strips", color)
    if not clips:
        raise MissingDataError(root, "no ucf101/ clips and no weizmann_strips/ here")
    clips.sort(key=lambda clip: clip.source)
    # Here, not at the top: regularity.data.preprocess imports the datasets package.
    from regularity.data.preprocess import drop_low_motion

    kept, dropped = drop_low_motion(clips, min_motion)
    if not kept:
        raise MissingDataError(root, f"no clip moves {min_motion} grey levels a frame or more")
    test = kept[test_every - 1 :: test_every] if len(kept) > 1 else []
    held = {id(clip) for clip in test}
    train = [clip for clip in kept if id(clip) not in held]
    return Dataset(name="motion", root=str(root), train=train, test=test, dropped=dropped)
