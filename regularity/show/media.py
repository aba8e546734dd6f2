"""Writing what a person watches: videos (.mp4, optionally .gif), contact sheets, outlined masks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import imageio.v2 as imageio
import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from regularity.data.base import Color, convert_color

GT_COLOUR = (0, 255, 0)


def to_rgb(frames: np.ndarray) -> np.ndarray:
    """uint8 ``[N, H, W]``, ``[N, H, W, 1]`` or ``[N, H, W, 3]`` frames as ``[N, H, W, 3]``."""
    return convert_color(frames, Color.RGB)


def outline_masks(
    frames: np.ndarray, masks: np.ndarray, colour: tuple[int, int, int] = GT_COLOUR
) -> np.ndarray:
    """RGB copies of the frames with the outline of each mask drawn on top."""
    out = to_rgb(frames).copy()
    for frame, mask in zip(out, masks, strict=True):
        if mask.any():
            contours, _ = cv2.findContours(
                mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
            )
            cv2.drawContours(frame, contours, -1, colour, 1)
    return out


def _even(frame: np.ndarray) -> np.ndarray:
    # H.264 in yuv420p (the pixel format browsers play) needs even width and height.
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _gif_palette(frames: np.ndarray, colours: int, keep: int = 8) -> Image.Image:
    # An adaptive palette from a sample of the frames, plus the most frequent vivid colours
    # kept exactly: red dots and green outlines cover too few pixels to win a median cut.
    pixels = frames.reshape(-1, 3)
    vivid = pixels[pixels.max(axis=1).astype(int) - pixels.min(axis=1) > 96]
    reserved = np.zeros((0, 3), np.uint8)
    if len(vivid):
        found, counts = np.unique(vivid, axis=0, return_counts=True)
        reserved = found[np.argsort(counts)[::-1][:keep]]
    sample = np.concatenate(list(frames[:: max(1, len(frames) // 8)]), axis=0)
    adaptive = Image.fromarray(sample).quantize(
        colours - len(reserved), method=Image.Quantize.MEDIANCUT
    )
    palette = Image.new("P", (1, 1))
    palette.putpalette(
        adaptive.getpalette()[: 3 * (colours - len(reserved))] + reserved.ravel().tolist()
    )
    return palette


def write_gif(
    frames: np.ndarray,
    path: str | Path,
    fps: float = 10.0,
    step: int = 2,
    colours: int = 32,
) -> Path:
    """A small looping ``.gif``: every ``step``-th frame, one adaptive palette, no dithering.

    Args:
        frames: uint8 frames, grey or RGB.
        path: the file to write.
        fps: playback rate of the original frames (the gif plays at the same speed).
        step: keep every ``step``-th frame.
        colours: palette size (vivid marks such as red dots keep their exact colour).

    Returns:
        The file written.

    """
    rgb = to_rgb(np.asarray(frames))[::step]
    palette = _gif_palette(rgb, colours)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in rgb]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=round(1000 * step / fps), loop=0
    )
    return path


def generate_video(
    frames: Iterable[np.ndarray] | np.ndarray,
    path: str | Path,
    fps: float = 10.0,
    gif: bool = False,
    progress: bool = False,
) -> list[Path]:
    """Write frames as an H.264 ``.mp4`` that plays in browsers and, when asked, a ``.gif``.

    Args:
        frames: uint8 frames, grey or RGB.
        path: the ``.mp4`` path (the gif gets the same name with ``.gif``).
        fps: playback rate.
        gif: also write a small gif (`write_gif`: every 2nd frame, 32 colours; about 7 times
            the mp4's size, where a full-rate, full-palette gif is 80 times).
        progress: show a progress bar.

    Returns:
        The files written.

    """
    path = Path(path).with_suffix(".mp4")
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = to_rgb(np.asarray(frames))
    writer = imageio.get_writer(
        path,
        fps=fps,
        codec="libx264",
        pixelformat="yuv420p",
        macro_block_size=1,
        output_params=["-movflags", "+faststart"],
    )
    with writer:
        for frame in tqdm(rgb, desc=path.name, disable=not progress, leave=False):
            writer.append_data(_even(frame))
    written = [path]
    if gif:
        written.append(write_gif(rgb, path.with_suffix(".gif"), fps=fps))
    return written


def read_video(path: str | Path) -> np.ndarray:
    """All frames of a written video as ``[N, H, W, 3]`` uint8 (for checks and notebooks)."""
    with imageio.get_reader(path) as reader:
        return np.stack([frame[..., :3] for frame in reader])


def contact_sheet(
    frames: np.ndarray,
    path: str | Path,
    n: int = 16,
    columns: int = 8,
    labels: np.ndarray | None = None,
) -> Path:
    """A PNG grid of ``n`` evenly spaced frames; abnormal frames (``labels``) get a red border."""
    picks = np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int)
    tiles = to_rgb(frames[picks]).copy()
    for tile, i in zip(tiles, picks, strict=True):
        if labels is not None and labels[i]:
            cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, tile.shape[0] - 1), (255, 0, 0), 2)
        cv2.putText(tile, str(i + 1), (3, 12), cv2.FONT_HERSHEY_PLAIN, 0.9, (255, 255, 0), 1)
    rows = -(-len(tiles) // columns)
    blank = np.zeros_like(tiles[0])
    tiles = list(tiles) + [blank] * (rows * columns - len(tiles))
    grid = np.concatenate(
        [np.concatenate(tiles[r * columns : (r + 1) * columns], axis=1) for r in range(rows)]
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(path, grid)
    return path


def show_clip(video: str | Path, graph: str | Path | None = None, width: int = 360) -> object:
    """Inline HTML for a notebook: the marked video (plays in place) beside its graph."""
    import base64

    from IPython.display import HTML

    def data_uri(path: str | Path, mime: str) -> str:
        return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode()}"

    html = (
        f'<video src="{data_uri(video, "video/mp4")}" width="{width}" controls autoplay '
        "loop muted playsinline></video>"
    )
    if graph is not None:
        html += f'<img src="{data_uri(graph, "image/png")}" style="max-width:55%">'
    return HTML(f'<div style="display:flex;gap:12px;align-items:center">{html}</div>')
