"""Synthetic movements: an articulated figure performing one of a few movements (issue 20).

A stick figure (head, torso, upper and lower arms and legs drawn as thick segments) performs a
parametrised movement: ``wave``, ``squat``, ``jack`` (jumping jack), ``walk`` or ``bend``. Each
clip draws its own speed, phase, position, scale, clothing grey levels, background texture and
sensor noise from a seeded generator, so that the same seed gives the same clips and the
movement, not the look, is what clips of one movement share. `write_movement_strips` writes
them in the frame-strip layout (`regularity.data.strips`), so the strip reader loads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MOVEMENTS = ("wave", "squat", "jack", "walk", "bend")


@dataclass(frozen=True)
class Pose:
    """A figure's pose: limb angles, torso tilt and how far the hips sink.

    Angles in radians from straight down (positive: towards image right), the forearm and shin
    relative to the upper limb, the tilt from upright, the sink a share of the torso length.
    """

    left_arm: float = 0.2
    left_forearm: float = 0.0
    right_arm: float = -0.2
    right_forearm: float = 0.0
    left_leg: float = 0.1
    left_shin: float = 0.0
    right_leg: float = -0.1
    right_shin: float = 0.0
    tilt: float = 0.0
    sink: float = 0.0


def pose(movement: str, phase: float) -> Pose:
    """The pose of ``movement`` at ``phase`` (radians; one cycle is 2 pi)."""
    swing = (1 - np.cos(phase)) / 2  # 0 -> 1 -> 0 over a cycle
    if movement == "wave":  # right arm up, the forearm waving
        return Pose(right_arm=-2.6, right_forearm=-0.7 * np.sin(phase))
    if movement == "squat":  # hips sink, knees bend forward, arms reach forward
        return Pose(sink=0.45 * swing, left_leg=1.0 * swing, left_shin=-1.0 * swing,
                    right_leg=1.0 * swing, right_shin=-1.0 * swing,
                    left_arm=1.4 * swing + 0.1, right_arm=1.4 * swing + 0.1)  # fmt: skip
    if movement == "jack":  # arms up over the head and legs apart together
        return Pose(left_arm=0.2 + 2.6 * swing, right_arm=-0.2 - 2.6 * swing,
                    left_leg=0.1 + 0.4 * swing, right_leg=-0.1 - 0.4 * swing)  # fmt: skip
    if movement == "walk":  # legs and arms swing in opposition
        step = np.sin(phase)
        return Pose(left_leg=0.5 * step, right_leg=-0.5 * step,
                    left_shin=-0.4 * max(step, 0), right_shin=-0.4 * max(-step, 0),
                    left_arm=-0.4 * step, right_arm=0.4 * step)  # fmt: skip
    if movement == "bend":  # the torso bends forward, arms hanging
        tilt = 1.3 * swing
        return Pose(tilt=tilt, left_arm=tilt, right_arm=tilt)
    raise ValueError(f"unknown movement {movement!r}; known: {', '.join(MOVEMENTS)}")


def _point(origin: np.ndarray, angle: float, length: float) -> np.ndarray:
    return origin + length * np.array([np.sin(angle), np.cos(angle)])


def draw_figure(
    canvas: np.ndarray, body: Pose, hip: tuple[float, float], scale: float, shades: np.ndarray
) -> None:
    """Draw the figure in ``body`` on ``canvas`` (in place), hips at ``hip`` (x, y)."""
    torso, limb = 0.36 * scale, 0.22 * scale
    hips = np.array([hip[0], hip[1] + body.sink * torso])
    neck = _point(hips, np.pi + body.tilt, torso)
    width = max(1, round(0.06 * scale))
    segments = [(hips, neck, shades[0])]
    for arm, forearm, shade in ((body.left_arm, body.left_forearm, shades[1]),
                                (body.right_arm, body.right_forearm, shades[1])):  # fmt: skip
        elbow = _point(neck, arm, limb)
        segments += [(neck, elbow, shade), (elbow, _point(elbow, arm + forearm, limb), shade)]
    for leg, shin in ((body.left_leg, body.left_shin), (body.right_leg, body.right_shin)):
        knee = _point(hips, leg, limb * 1.1)
        segments += [
            (hips, knee, shades[2]),
            (knee, _point(knee, leg + shin, limb * 1.1), shades[2]),
        ]
    for start, end, shade in segments:
        cv2.line(canvas, tuple(np.round(start).astype(int)), tuple(np.round(end).astype(int)),
                 float(shade), width, cv2.LINE_AA)  # fmt: skip
    head = _point(neck, np.pi + body.tilt, 0.1 * scale)
    cv2.circle(canvas, tuple(np.round(head).astype(int)), max(2, round(0.08 * scale)),
               float(shades[0]), -1, cv2.LINE_AA)  # fmt: skip


def movement_clip(
    movement: str, frames: int = 32, size: int = 64, rng: np.random.Generator | None = None
) -> np.ndarray:
    """One clip ``[frames, size, size]`` uint8 of ``movement`` with a random look and speed."""
    rng = rng or np.random.default_rng(0)
    cycle = rng.uniform(10, 18)  # frames a cycle
    phase0 = rng.uniform(0, 2 * np.pi)
    scale = size * rng.uniform(0.6, 0.75)
    hip = np.array([size * rng.uniform(0.4, 0.6), size * rng.uniform(0.55, 0.62)])
    background = cv2.GaussianBlur(rng.uniform(60, 140, (size, size)).astype(np.float32), (0, 0), 3)
    shades = rng.uniform(170, 250, 3) if rng.random() < 0.5 else rng.uniform(0, 50, 3)
    walk_speed = rng.uniform(0.3, 0.8) * rng.choice([-1, 1])
    clip = np.empty((frames, size, size), np.uint8)
    for t in range(frames):
        canvas = background.copy()
        place = hip + [walk_speed * t if movement == "walk" else 0.0, 0.0]
        place[0] = (place[0] - size * 0.2) % (size * 0.6) + size * 0.2  # stay in the frame
        draw_figure(canvas, pose(movement, phase0 + 2 * np.pi * t / cycle), place, scale, shades)
        canvas += rng.normal(0, 3, canvas.shape)  # sensor noise
        clip[t] = np.clip(canvas, 0, 255).astype(np.uint8)
    return clip


def write_movement_strips(
    root: str | Path,
    clips_per_movement: int = 9,
    frames: int = 32,
    size: int = 64,
    seed: int = 0,
    movements: tuple[str, ...] = MOVEMENTS,
) -> Path:
    """Write ``root/<movement>/<nnnnnnnn>.png`` frame strips (the Weizmann strips' layout)."""
    from PIL import Image

    root = Path(root)
    for index, movement in enumerate(movements):
        folder = root / movement
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([seed, index])
        for clip in range(clips_per_movement):
            frames_ = movement_clip(movement, frames, size, rng)
            strip = np.concatenate(list(frames_), axis=1)
            Image.fromarray(strip).save(folder / f"{clip:08d}.png")
    return root
