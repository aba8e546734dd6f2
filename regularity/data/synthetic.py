"""The embedded default: a synthetic walkway in the official UCSD layout, made from a seed.

A textured static scene (lawn above and below a paved walkway), pedestrians walking slowly along
the walkway, and test clips in which one irregular thing happens: a fast cyclist, a cart, or
someone crossing the lawn. Frame labels and pixel masks are exact (the masks are the irregular
object's own pixels). The result is written as ``UCSDsynthetic/`` (see `regularity.data.ucsd`)
so that the reader of real UCSD data reads it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from regularity.data.base import write_once
from regularity.data.groundtruth import labels_to_spans

FOLDER = "UCSDsynthetic"
ANOMALIES = ("cyclist", "cart", "lawn_crossing")


@dataclass(frozen=True)
class WalkwaySpec:
    """Everything that decides the generated dataset; the same spec gives the same bytes."""

    seed: int = 0
    n_train: int = 8
    n_test: int = 6
    n_frames: int = 100
    height: int = 120
    width: int = 180
    walkway: tuple[int, int] = (42, 92)  # rows of the paved band
    noise_sigma: float = 2.5


def _background(spec: WalkwaySpec, rng: np.random.Generator) -> np.ndarray:
    h, w = spec.height, spec.width
    grass = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.2)
    scene = 95 + 18 * grass / grass.std()
    top, bottom = spec.walkway
    paving = 170 + 6 * rng.normal(0, 1, (bottom - top, w))
    paving[:, ::12] -= 25  # joints between paving slabs
    paving[::10, :] -= 20
    scene[top:bottom] = paving
    scene[top - 2 : top] = scene[bottom : bottom + 2] = 210  # kerbs
    return scene.astype(np.float32)


def _draw_person(canvas: np.ndarray, x: float, y: float, phase: float, shade: float) -> None:
    """A walker seen from above and behind: head, body and two swinging legs; (x, y) = feet."""
    xi, yi = int(round(x)), int(round(y))
    swing = int(round(3 * np.sin(phase)))
    cv2.line(canvas, (xi, yi - 7), (xi + swing, yi), shade, 2)
    cv2.line(canvas, (xi, yi - 7), (xi - swing, yi), shade, 2)
    cv2.ellipse(canvas, (xi, yi - 11), (3, 5), 0, 0, 360, shade, -1)
    cv2.circle(canvas, (xi, yi - 18), 2, shade * 0.8, -1)


def _draw_cyclist(canvas: np.ndarray, x: float, y: float, phase: float, shade: float) -> None:
    xi, yi = int(round(x)), int(round(y))
    for dx in (-6, 6):
        cv2.circle(canvas, (xi + dx, yi - 3), 3, shade, 1)
    cv2.line(canvas, (xi - 6, yi - 3), (xi + 6, yi - 3), shade, 1)
    cv2.ellipse(canvas, (xi, yi - 11), (3, 5), 0, 0, 360, shade, -1)
    cv2.circle(canvas, (xi + 1, yi - 18), 2, shade * 0.8, -1)


def _draw_cart(canvas: np.ndarray, x: float, y: float, phase: float, shade: float) -> None:
    xi, yi = int(round(x)), int(round(y))
    cv2.rectangle(canvas, (xi - 10, yi - 12), (xi + 10, yi - 2), shade, -1)
    for dx in (-7, 7):
        cv2.circle(canvas, (xi + dx, yi - 1), 2, shade * 0.6, -1)


def _walkers(spec: WalkwaySpec, rng: np.random.Generator) -> list[dict]:
    """Pedestrians along the walkway: some in view at the start, more entering later."""
    top, bottom = spec.walkway
    walkers = []
    for _ in range(int(rng.integers(3, 6))):
        direction = rng.choice([-1.0, 1.0])
        start_in_view = rng.random() < 0.6
        x0 = (
            rng.uniform(10, spec.width - 10)
            if start_in_view
            else (-10.0 if direction > 0 else spec.width + 10.0)
        )
        walkers.append(
            {
                "draw": _draw_person,
                "x": x0 - direction * rng.uniform(0, 60) * (not start_in_view),
                "y": rng.uniform(top + 20, bottom - 2),
                "vx": direction * rng.uniform(0.4, 1.0),
                "vy": rng.normal(0, 0.03),
                "shade": rng.uniform(30, 80),
                "phase": rng.uniform(0, 2 * np.pi),
                "step": rng.uniform(0.25, 0.4),
            }
        )
    return walkers


def _intruder(kind: str, spec: WalkwaySpec, rng: np.random.Generator) -> dict:
    top, bottom = spec.walkway
    direction = rng.choice([-1.0, 1.0])
    edge = -15.0 if direction > 0 else spec.width + 15.0
    start = float(rng.integers(8, spec.n_frames // 3))
    if kind == "cyclist":
        shape = {"draw": _draw_cyclist, "vx": direction * rng.uniform(3.0, 4.0), "vy": 0.0}
    elif kind == "cart":
        shape = {"draw": _draw_cart, "vx": direction * rng.uniform(1.8, 2.4), "vy": 0.0}
    else:  # someone leaving the walkway to cross the lawn, top to bottom
        shape = {"draw": _draw_person, "vx": rng.normal(0, 0.2), "vy": rng.uniform(1.5, 1.9)}
    x = edge if kind != "lawn_crossing" else rng.uniform(40, spec.width - 40)
    y = rng.uniform(top + 20, bottom - 2) if kind != "lawn_crossing" else -2.0
    return {
        **shape,
        "x": x - shape["vx"] * start,
        "y": y - shape["vy"] * start,
        "shade": rng.uniform(20, 60),
        "phase": 0.0,
        "step": 0.6,
    }


def _render(
    spec: WalkwaySpec,
    background: np.ndarray,
    walkers: list[dict],
    intruder: dict | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    frames = np.empty((spec.n_frames, spec.height, spec.width), np.uint8)
    masks = np.zeros((spec.n_frames, spec.height, spec.width), bool)
    for t in range(spec.n_frames):
        canvas = background.copy()
        movers = sorted(walkers, key=lambda m: m["y"] + m["vy"] * t)
        for m in movers + ([intruder] if intruder else []):
            m["draw"](
                canvas,
                m["x"] + m["vx"] * t,
                m["y"] + m["vy"] * t,
                m["phase"] + m["step"] * t,
                m["shade"],
            )
        if intruder:
            mask = np.zeros_like(canvas)
            i = intruder
            i["draw"](mask, i["x"] + i["vx"] * t, i["y"] + i["vy"] * t, 0.0, 255.0)
            masks[t] = mask > 0
        canvas += rng.normal(0, spec.noise_sigma, canvas.shape)
        frames[t] = np.clip(canvas, 0, 255).astype(np.uint8)
    return frames, masks


def _write_clip(folder: Path, images: np.ndarray, suffix: str) -> None:
    folder.mkdir(parents=True)
    for i, image in enumerate(images, start=1):
        Image.fromarray(image).save(folder / f"{i:03d}{suffix}")


def generate_walkway(root: str | Path, spec: WalkwaySpec | None = None) -> Path:
    """Write the synthetic walkway under ``root/UCSDsynthetic`` unless the same spec is there.

    Args:
        root: data root; the dataset folder is created inside it.
        spec: what to generate; the default is the suite's embedded dataset.

    Returns:
        The dataset folder (readable with `regularity.data.ucsd.read_ucsd_official`).

    """
    spec = spec or WalkwaySpec()
    stamp = json.dumps(asdict(spec), sort_keys=True)
    return write_once(Path(root) / FOLDER, stamp, lambda staging: _write_walkway(spec, staging))


def _write_walkway(spec: WalkwaySpec, staging: Path) -> None:
    rng = np.random.default_rng(spec.seed)
    background = _background(spec, rng)
    for i in range(1, spec.n_train + 1):
        frames, _ = _render(spec, background, _walkers(spec, rng), None, rng)
        _write_clip(staging / "Train" / f"Train{i:03d}", frames, ".tif")
    lines = ["TestVideoFile = {};"]
    for i in range(1, spec.n_test + 1):
        kind = ANOMALIES[(i - 1) % len(ANOMALIES)]
        intruder = _intruder(kind, spec, rng)
        frames, masks = _render(spec, background, _walkers(spec, rng), intruder, rng)
        _write_clip(staging / "Test" / f"Test{i:03d}", frames, ".tif")
        _write_clip(staging / "Test" / f"Test{i:03d}_gt", masks.astype(np.uint8) * 255, ".bmp")
        spans = ", ".join(f"{a}:{b}" for a, b in labels_to_spans(masks.any(axis=(1, 2))))
        lines.append(f"TestVideoFile{{end+1}}.gt_frame = [{spans}];  % {kind}")
    (staging / "Test" / f"{FOLDER}.m").write_text("\n".join(lines) + "\n")
