"""UCSD Pedestrian readers: the official tif layout and the frames layout of Liu et al. / MNAD.

Official layout (``UCSD_Anomaly_Dataset.v1p2``; the synthetic walkway is written the same way)::

    UCSDped2/
        Train/Train001/001.tif ...
        Test/Test001/001.tif ...
        Test/Test001_gt/001.bmp ...      pixel masks (.bmp or .png), for some or all clips
        Test/UCSDped2.m                  TestVideoFile{end+1}.gt_frame = [61:180];

Frames layout (Liu et al. 2018, MNAD)::

    ped2/
        training/frames/01/000.jpg ...
        testing/frames/01/000.jpg ...
        ped2.mat                         gt: 1 x 12 cells of 2 x k start/end rows
        UCSDped2.m                       optional: the official spans, preferred when present
        masks/Test001_gt/001.png ...     optional: the official pixel masks

Frame ``000.jpg`` of the frames layout is frame 1 of the official MATLAB ranges.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from regularity.data.base import Color, Dataset, Video
from regularity.data.groundtruth import parse_span_mat, parse_ucsd_m, spans_to_labels
from regularity.data.readers import list_images, read_image_folder, read_mask_folder
from regularity.errors import GroundTruthError, MissingDataError


def _clip_folders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise MissingDataError(folder, "folder of clips does not exist")
    clips = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.endswith("_gt"))
    if not clips:
        raise MissingDataError(folder, "folder holds no clip folders")
    return clips


def _video(
    folder: Path,
    color: Color,
    spans: list[tuple[int, int]] | None = None,
    gt_source: Path | None = None,
    mask_folder: Path | None = None,
) -> Video:
    labels = None
    if spans is not None:
        labels = spans_to_labels(spans, len(list_images(folder)), gt_source)
    load_masks = None
    if mask_folder is not None and mask_folder.is_dir():
        load_masks = partial(read_mask_folder, mask_folder)
    return Video(
        name=folder.name,
        source=str(folder),
        load_frames=partial(read_image_folder, folder, color),
        labels=labels,
        load_masks=load_masks,
    )


def _match_spans(spans: list, clips: list[Path], gt_file: Path) -> list:
    if len(spans) != len(clips):
        raise GroundTruthError(
            gt_file, f"lists {len(spans)} test clips but {clips[0].parent} holds {len(clips)}"
        )
    return spans


def read_ucsd_official(folder: str | Path, color: Color | str = Color.GREY) -> Dataset:
    """Read ``UCSDpedN/`` in the official layout (see the module docstring)."""
    folder = Path(folder)
    color = Color(color)
    test_dir = folder / "Test"
    gt_files = sorted(test_dir.glob("*.m"))
    if not gt_files:
        raise MissingDataError(test_dir, "no ground-truth .m file (e.g. UCSDped2.m)")
    test_clips = _clip_folders(test_dir)
    spans = _match_spans(parse_ucsd_m(gt_files[0]), test_clips, gt_files[0])
    return Dataset(
        name=folder.name,
        root=str(folder),
        train=[_video(c, color) for c in _clip_folders(folder / "Train")],
        test=[
            _video(c, color, s, gt_files[0], test_dir / f"{c.name}_gt")
            for c, s in zip(test_clips, spans, strict=True)
        ],
    )


def frames_layout_labels(folder: str | Path) -> tuple[list, Path]:
    """Spans per test clip of a frames-layout folder, and the file they came from.

    The official ``UCSDped*.m`` wins over ``ped*.mat``: some ``.mat`` files drop the first
    frames that a four-frame predictor cannot score.
    """
    folder = Path(folder)
    official = sorted(folder.glob("UCSDped*.m"))
    if official:
        return parse_ucsd_m(official[0]), official[0]
    mats = sorted(folder.glob("*.mat"))
    if not mats:
        raise MissingDataError(folder, "no ground truth (UCSDped*.m or <name>.mat)")
    return parse_span_mat(mats[0]), mats[0]


def read_frames_layout(folder: str | Path, color: Color | str = Color.GREY) -> Dataset:
    """Read ``ped2/`` (or ``ped1/``, ``avenue/``) in the frames layout (module docstring)."""
    folder = Path(folder)
    color = Color(color)
    test_clips = _clip_folders(folder / "testing" / "frames")
    spans, gt_file = frames_layout_labels(folder)
    spans = _match_spans(spans, test_clips, gt_file)
    masks = folder / "masks"
    return Dataset(
        name=folder.name,
        root=str(folder),
        train=[_video(c, color) for c in _clip_folders(folder / "training" / "frames")],
        test=[
            _video(c, color, s, gt_file, masks / f"Test{int(c.name):03d}_gt")
            for c, s in zip(test_clips, spans, strict=True)
        ],
    )


def find_ucsd(root: str | Path, subset: str, color: Color | str = Color.GREY) -> Dataset:
    """Find UCSD ``subset`` ("ped1" or "ped2") under ``root`` in either layout and read it."""
    root = Path(root)
    official = f"UCSD{subset}"
    candidates = [
        (root, read_ucsd_official if (root / "Train").is_dir() else read_frames_layout),
        (root / official, read_ucsd_official),
        (root / "UCSD_Anomaly_Dataset.v1p2" / official, read_ucsd_official),
        (root / subset, read_frames_layout),
    ]
    for folder, reader in candidates:
        if (folder / "Train").is_dir() or (folder / "training" / "frames").is_dir():
            return reader(folder, color)
    raise MissingDataError(
        root,
        f"no UCSD {subset} here: expected {official}/Train (official) or "
        f"{subset}/training/frames (frames layout); fetch it with "
        f"'python scripts/fetch_data.py {subset} --dest {root}'",
    )
