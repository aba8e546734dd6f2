"""Decoding clips: a folder of numbered images, or one video file."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from regularity.datasets.base import Color
from regularity.errors import CorruptFileError, FrameSizeError, MissingDataError

IMAGE_SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp")
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".mpg", ".mpeg")


def _natural_key(path: Path) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def list_images(folder: str | Path) -> list[Path]:
    """The image files of a clip folder in frame order (``2.jpg`` before ``10.jpg``).

    Raises:
        MissingDataError: the folder does not exist or holds no images.

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


def read_video_file(path: str | Path, color: Color | str = Color.GREY) -> np.ndarray:
    """All frames of a video file, ``[N, H, W]`` or ``[N, H, W, 3]`` uint8.

    Raises:
        MissingDataError: the file does not exist.
        CorruptFileError: the file does not decode to a single frame.

    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(path, "video file does not exist")
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
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
    return _stack(frames, [path] * len(frames), path)


def video_fps(path: str | Path) -> float:
    """The frame rate a video file declares (0.0 when it declares none)."""
    capture = cv2.VideoCapture(str(path))
    try:
        return float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        capture.release()
