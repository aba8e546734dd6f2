"""Decoding clips: a folder of numbered images, one video file, or one strip of frames."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from regularity.data.base import Color
from regularity.errors import CorruptFileError, FrameSizeError, MissingDataError

IMAGE_SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp")
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".mpg", ".mpeg")
_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")  # prefix, the last run of digits, the rest

logger = logging.getLogger(__name__)


def _natural_key(path: Path) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def _check_numbering(folder: Path, files: list[Path]) -> None:
    matches = [m for m in (_NUMBER.match(p.name) for p in files) if m]
    if not matches:
        return
    numbers = {int(m[2]) for m in matches}
    missing = sorted(set(range(min(min(numbers), 1), max(numbers) + 1)) - numbers)
    if missing:
        prefix, digits, rest = matches[0].groups()
        names = [f"{prefix}{n:0{len(digits)}d}{rest}" for n in missing]
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        raise MissingDataError(
            folder,
            f"numbered frames have a gap: {', '.join(names[:10])}{more} missing "
            "(every later frame would take the wrong label)",
        )


def list_images(folder: str | Path, contiguous: bool = True) -> list[Path]:
    """The image files of a clip folder in frame order (``2.jpg`` before ``10.jpg``).

    Args:
        folder: the clip folder.
        contiguous: check that numbered files (``000.jpg``, ``frame001.png``: the last number in
            the name) run without a gap from 0 or 1; files without a number are not checked.

    Raises:
        MissingDataError: the folder does not exist, holds no images, or misses a numbered frame.

    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingDataError(folder, "clip folder does not exist")
    files = sorted(
        (
            p
            for p in folder.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
        ),
        key=_natural_key,
    )
    if not files:
        raise MissingDataError(folder, f"clip folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
    if contiguous:
        _check_numbering(folder, files)
    return files


def read_image(path: str | Path, color: Color | str = Color.GREY) -> np.ndarray:
    """One image as uint8, ``[H, W]`` grey or ``[H, W, 3]`` RGB.

    Raises:
        CorruptFileError: the file is not an image or is truncated.

    """
    mode = "L" if Color(color) is Color.GREY else "RGB"
    try:
        with Image.open(path) as image:
            image.load()  # decodes now, so that truncation raises here and not later
            return np.asarray(image.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise CorruptFileError(path, f"unreadable or truncated image ({err})") from err


def _stack(frames: list[np.ndarray], files: list[Path], folder: Path) -> np.ndarray:
    shape = frames[0].shape
    for image, path in zip(frames, files, strict=True):
        if image.shape != shape:
            raise FrameSizeError(
                path, f"frame is {image.shape[:2]} but {files[0].name} in {folder} is {shape[:2]}"
            )
    return np.stack(frames)


def read_image_folder(folder: str | Path, color: Color | str = Color.GREY) -> np.ndarray:
    """All frames of a clip folder, ``[N, H, W]`` or ``[N, H, W, 3]`` uint8.

    Decoding runs on a few threads: PIL releases the GIL while it decodes.
    """
    files = list_images(folder)
    with ThreadPoolExecutor(max_workers=4) as pool:
        frames = list(pool.map(lambda p: read_image(p, color), files))
    return _stack(frames, files, Path(folder))


def read_mask_folder(folder: str | Path) -> np.ndarray:
    """Pixel masks from a folder of images (``_gt`` folders): True where the image is non-zero."""
    return read_image_folder(folder, Color.GREY) > 0


def read_video_file(
    path: str | Path,
    color: Color | str = Color.GREY,
    strict: bool = True,
    meta: dict | None = None,
) -> np.ndarray:
    """All frames of a video file, ``[N, H, W]`` or ``[N, H, W, 3]`` uint8.

    Args:
        path: the video file.
        color: "grey" or "rgb".
        strict: raise when fewer frames decode than the container declares (a truncated file);
            with False, log a warning and return the frames that did decode.
        meta: a dict (a `Video`'s ``meta``) that receives ``declared_frames`` and
            ``missing_frames`` when frames are missing and ``strict`` is False.

    Raises:
        MissingDataError: the file does not exist.
        CorruptFileError: the file does not decode to a single frame, or (``strict``) decodes to
            fewer frames than its container declares.

    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(path, "video file does not exist")
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)  # <= 0: none declared
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            code = cv2.COLOR_BGR2GRAY if Color(color) is Color.GREY else cv2.COLOR_BGR2RGB
            frames.append(cv2.cvtColor(frame, code))
    finally:
        capture.release()
    if not frames:
        raise CorruptFileError(path, "video does not decode (no frame could be read)")
    if len(frames) < declared:
        problem = f"truncated: {len(frames)} frames decode but the container declares {declared}"
        if strict:
            raise CorruptFileError(path, problem)
        logger.warning("%s: %s; using the %d that decode", path, problem, len(frames))
        if meta is not None:
            meta.update(declared_frames=declared, missing_frames=declared - len(frames))
    return _stack(frames, [path] * len(frames), path)


def read_frame_strip(
    path: str | Path, frame_width: int | None = 64, color: Color | str = Color.GREY
) -> np.ndarray:
    """The frames of one image that holds a clip's frames side by side, left to right.

    Frame ``i`` is columns ``frame_width * i`` to ``frame_width * (i + 1) - 1``; without a
    ``frame_width`` the frames are square (as wide as the strip is tall).

    Returns:
        ``[N, H, frame_width]`` (grey) or ``[N, H, frame_width, 3]`` uint8.

    Raises:
        CorruptFileError: the image does not decode.
        FrameSizeError: the image width is not a multiple of ``frame_width``.

    """
    strip = read_image(path, color)
    height, width = strip.shape[:2]
    frame_width = frame_width or height
    if width % frame_width:
        raise FrameSizeError(
            path, f"strip is {width} px wide, not a multiple of the frame width {frame_width}"
        )
    frames = strip.reshape(height, width // frame_width, frame_width, *strip.shape[2:])
    return np.ascontiguousarray(frames.swapaxes(0, 1))


def video_fps(path: str | Path) -> float:
    """The frame rate a video file declares (0.0 when it declares none)."""
    capture = cv2.VideoCapture(str(path))
    try:
        return float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        capture.release()
