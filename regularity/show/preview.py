"""Looking at a dataset before training on it: a contact sheet and a short video of a few clips.

Shared by ``scripts/preview_dataset.py`` and ``notebooks/00_data.ipynb``. Abnormal frames get a
red border on the sheet; ground-truth masks are outlined in green on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from regularity.data.base import Dataset, Split, Video
from regularity.errors import DataError
from regularity.run.files import portable_path, write_json
from regularity.show.media import contact_sheet, generate_video, outline_masks, show_clip


def pick_clips(dataset: Dataset, split: Split | str, clips: int | Sequence[int]) -> list[Video]:
    """The first ``clips`` videos of a split, or the videos at the given indices.

    Raises:
        DataError: an index that the split does not have (the message says which exist).

    """
    split = Split(split)
    videos = dataset.split(split)
    if isinstance(clips, int):
        return videos[: max(0, clips)]
    n = len(videos)
    for i in clips:
        if not 0 <= i < n:
            if n == 0:
                have = "it has none"
            elif n == 1:
                have = f"it has one, clip 0 ({videos[0].name})"
            else:
                have = f"it has {n}, clips 0-{n - 1} ({videos[0].name} to {videos[-1].name})"
            raise DataError(dataset.root, f"no {split.value} clip {i} in {dataset.name}: {have}")
    return [videos[i] for i in clips]


def preview_clip(video: Video, out_dir: str | Path, fps: float = 10.0) -> dict:
    """Write ``<name>_sheet.png`` (8 evenly spaced frames) and ``<name>.mp4`` of one clip.

    Ground truth is shown: abnormal frames framed in red on the sheet, masks outlined in green.

    Returns:
        What was written and what the clip holds: ``name``, ``frames``, ``abnormal_frames``
        (None without labels), ``sheet``, ``video``.

    """
    out_dir = Path(out_dir)
    frames = video.frames if video.masks is None else outline_masks(video.frames, video.masks)
    sheet = contact_sheet(
        frames, out_dir / f"{video.name}_sheet.png", n=8, columns=4, labels=video.labels
    )
    (mp4,) = generate_video(frames, out_dir / video.name, fps=fps)
    record = {
        "name": video.name,
        "frames": len(frames),
        "abnormal_frames": None if video.labels is None else int(video.labels.sum()),
        "sheet": str(sheet),
        "video": str(mp4),
    }
    video.release()
    return record


def preview_clips(
    dataset: Dataset,
    out_dir: str | Path,
    clips: int | Sequence[int] = 2,
    splits: Sequence[Split | str] = (Split.TRAIN, Split.TEST),
    fps: float = 10.0,
) -> dict:
    """A contact sheet and an mp4 of a few clips of each split, listed in ``preview.json``.

    Args:
        dataset: an opened dataset.
        out_dir: folder to write into (``<split>/<clip>_sheet.png``, ``<split>/<clip>.mp4``).
        clips: how many clips of each split (the first ones), or their indices.
        splits: which splits.
        fps: playback rate of the videos.

    Returns:
        The contents of ``preview.json``: ``dataset``, ``root`` and one record per clip
        (`preview_clip`'s, with its ``split``).

    Raises:
        DataError: a clip index that a split does not have.

    """
    out_dir = Path(out_dir)
    chosen = [(Split(s), v) for s in splits for v in pick_clips(dataset, s, clips)]
    records = [
        {"split": split.value, **preview_clip(video, out_dir / split.value, fps)}
        for split, video in chosen
    ]
    preview = {"dataset": dataset.name, "root": dataset.root, "clips": records}
    # On disk the clips' files are named from the preview folder and the root from the project,
    # so that a moved clone's preview still points at its files.
    stored = [
        {**r, "sheet": str(Path(r["sheet"]).relative_to(out_dir)),
         "video": str(Path(r["video"]).relative_to(out_dir))} for r in records
    ]  # fmt: skip
    write_json(out_dir / "preview.json", {**preview, "root": portable_path(dataset.root),
                                          "clips": stored})  # fmt: skip
    return preview


def show_previews(preview: dict, width: int = 300) -> object:
    """Inline HTML for a notebook: each previewed clip's video beside its contact sheet."""
    from IPython.display import HTML

    blocks = []
    for clip in preview["clips"]:
        abnormal = clip["abnormal_frames"]
        labels = "no labels" if abnormal is None else f"{abnormal} abnormal"
        title = f"{clip['split']} · {clip['name']} ({clip['frames']} frames, {labels})"
        blocks.append(f"<h4>{title}</h4>{show_clip(clip['video'], clip['sheet'], width).data}")
    return HTML("".join(blocks))
