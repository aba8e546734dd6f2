"""Frame preprocessing: colour, size, and the scaling a model sees (and its inverse)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

from regularity import usable_cores
from regularity.data.base import Color, convert_color


class MotionInput(str, Enum):
    """What the motion channels beside a model's frames hold (`prepare_frames`)."""

    NONE = "none"
    DIFFERENCE = "difference"  # |I_t - I_{t-1}| per colour channel
    # DIS optical-flow speed at the model's frame size, FLOW_LEVELS grey levels per pixel a
    # frame, repeated per colour channel
    FLOW = "flow"
    # the frame difference's channels, then the flow's: one model sees (and must reproduce)
    # both views of motion, the one summed best and the one that reads best per cell
    BOTH = "both"

    @classmethod
    def of(cls, value: bool | str | None) -> MotionInput:
        """A run config's ``motion``: False, True (the frame difference), or a kind's name.

        >>> MotionInput.of(True).value, MotionInput.of(False).value, MotionInput.of("flow").value
        ('difference', 'none', 'flow')
        """
        if isinstance(value, bool) or value is None:
            return cls.DIFFERENCE if value else cls.NONE
        try:
            return cls(value)
        except ValueError:
            kinds = ", ".join(repr(kind.value) for kind in cls)
            message = f"motion must be true, false or one of {kinds}, not {value!r}"
            raise ValueError(message) from None

    def setting(self) -> bool | str:
        """How a run config spells it: False, True (the frame difference), "flow" or "both".

        One spelling per kind, so that a config reads as it always did and a resume compares
        like with like.
        """
        return {MotionInput.NONE: False, MotionInput.DIFFERENCE: True}.get(self, self.value)

    @property
    def kinds(self) -> tuple[MotionInput, ...]:
        """The single kinds whose channels follow the frames', in order.

        >>> [kind.value for kind in MotionInput.BOTH.kinds]
        ['difference', 'flow']
        """
        if self is MotionInput.BOTH:
            return (MotionInput.DIFFERENCE, MotionInput.FLOW)
        return () if self is MotionInput.NONE else (self,)


# Quantised flow speed: 1/32 pixel a frame resolves a walker's stride at the model's size, and a
# byte holds up to 8 pixels a frame (faster is clipped: it is anomalous either way).
FLOW_LEVELS = 32.0
FLOW_MIN_SIDE = 16


def prepare_frames(
    frames: np.ndarray,
    size: tuple[int, int] | None,
    color: Color | str = Color.GREY,
    motion: bool | str = False,
) -> np.ndarray:
    """Resize and convert uint8 frames once, keeping uint8: ``[N, H, W, C]``.

    Args:
        frames: ``[N, H, W]`` grey or ``[N, H, W, 3]`` RGB uint8 frames.
        size: (height, width) to resize to, or None to keep the size.
        color: "grey" (C = 1) or "rgb" (C = 3).
        motion: append one motion channel per colour channel and motion kind (`MotionInput`: True or
            "difference" for ``|I_t - I_{t-1}|``, "flow" for the optical-flow speed, "both"
            for the two, difference first), so that a model sees motion as well as appearance
            (C doubles, or triples for "both").

    """
    frames = convert_color(frames, color)
    if size is not None and tuple(frames.shape[1:3]) != tuple(size):
        # INTER_AREA averages when shrinking, so that down-sampling does not alias texture.
        frames = np.stack(
            [cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA) for f in frames]
        ).reshape(len(frames), size[0], size[1], -1)
    if MotionInput.of(motion) is not MotionInput.NONE:
        frames = np.concatenate(
            [frames, motion_between(previous_frames(frames), frames, motion)], axis=-1
        )
    return np.ascontiguousarray(frames)


def motion_between(before: np.ndarray, after: np.ndarray, motion: bool | str) -> np.ndarray:
    """uint8 motion channels (`MotionInput`) from frames ``before`` to ``after``.

    Both ``[..., H, W, C]`` uint8, paired element by element; the result has their shape, with
    C channels per motion kind.

    >>> motion_between(np.array([[[3]]], np.uint8), np.array([[[5]]], np.uint8), True).tolist()
    [[[2]]]
    """
    kind = MotionInput.of(motion)
    if kind is MotionInput.BOTH:
        return np.concatenate([motion_between(before, after, k) for k in kind.kinds], axis=-1)
    if kind is MotionInput.DIFFERENCE:
        return np.abs(after.astype(np.int16) - before).astype(np.uint8)
    shape = after.shape
    pairs = [p.reshape(-1, *shape[-3:]) for p in (before, after)]
    grey = [convert_color(p, Color.GREY)[..., 0] for p in pairs]
    levels = np.clip(np.rint(flow_speeds(*grey) * FLOW_LEVELS), 0, 255).astype(np.uint8)
    return np.repeat(levels[..., None], shape[-1], axis=-1).reshape(shape)


def previous_frames(frames: np.ndarray) -> np.ndarray:
    """Each frame's predecessor; frame 0, which has none, is paired with frame 1.

    Compared with itself, the first frame would read "no motion at all": an artificial minimum
    that per-video min-max scaling then stretches over every other frame.
    """
    frames = np.asarray(frames)
    return np.concatenate([frames[1:2] if len(frames) > 1 else frames[:1], frames[:-1]])


def absolute_difference(frames: np.ndarray) -> np.ndarray:
    """|I_t - I_{t-1}| per pixel as uint8; frame 0 takes frame 1's (`previous_frames`).

    >>> absolute_difference(np.array([[3], [5], [9]], np.uint8)).ravel().tolist()
    [2, 2, 4]
    """
    return motion_between(previous_frames(frames), np.asarray(frames), MotionInput.DIFFERENCE)


def flow_magnitude(frames: np.ndarray) -> np.ndarray:
    """Dense optical flow speed per pixel, in pixels per frame: ``[N, H, W]`` float32.

    OpenCV's DIS flow (Kroeger et al. 2016): no learned weights, a few milliseconds a frame.
    Frame 0, which has no predecessor, is paired with frame 1 (`previous_frames`).

    >>> frames = np.zeros((3, 32, 32), np.uint8); frames[1, 8:16, 8:16] = 255
    >>> flow_magnitude(frames).shape
    (3, 32, 32)
    """
    grey = convert_color(np.asarray(frames), Color.GREY)[..., 0]
    if len(grey) < 2:
        return np.zeros(grey.shape, np.float32)
    return flow_speeds(previous_frames(grey), grey)


# OpenCV's thread count is global: `flow_speeds` called in parallel (by tf.data) takes turns,
# so that no call restores a count another one set.
_OPENCV_THREADS = threading.Lock()


def flow_speeds(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """DIS optical-flow speed (medium preset) from each grey frame ``before`` to ``after``.

    Both ``[N, H, W]`` uint8; returns ``[N, H, W]`` float32 pixels per frame. The pairs are
    shared among one thread per usable core, each with its own DIS (one is not thread-safe):
    each pair's flow is computed alone, so the result is the same as one after another.
    """
    if len(before) != len(after):
        raise ValueError(f"{len(before)} frames to pair with {len(after)}")
    speed = np.empty(np.shape(after), np.float32)

    def fill(pairs: np.ndarray) -> None:
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        for i in pairs:
            step = flow.calc(np.ascontiguousarray(before[i]), np.ascontiguousarray(after[i]), None)
            speed[i] = np.hypot(step[..., 0], step[..., 1])

    threads = min(usable_cores(), len(after))
    if threads <= 1:  # one core or one pair: OpenCV's own loops, no lock to wait on
        fill(np.arange(len(after)))
        return speed
    # DIS's own parallel loops are short and leave cores idle between them (1.3x on two cores);
    # whole pairs per thread, OpenCV's loops serial meanwhile, gave 1.3-1.7x.
    with _OPENCV_THREADS:
        opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(fill, np.array_split(np.arange(len(after)), threads)))
        finally:
            cv2.setNumThreads(opencv_threads)
    return speed


class Scaling(str, Enum):
    """How uint8 frames become model inputs."""

    UNIT = "unit"  # [0, 1]
    SYMMETRIC = "symmetric"  # [-1, 1], for tanh outputs
    STANDARD = "standard"  # per-pixel mean and std of the training frames (Chong & Tay 2017)


@dataclass
class Normalizer:
    """Maps uint8 frames to the model's scale and back; works on NumPy arrays and tf tensors.

    >>> n = Normalizer("symmetric")
    >>> n.apply(np.array([0.0, 255.0])).tolist()
    [-1.0, 1.0]
    >>> n.invert(n.apply(np.array([51.0]))).round(6).tolist()
    [51.0]
    """

    scaling: Scaling | str = Scaling.UNIT
    mean: np.ndarray | float = field(default=0.0, repr=False)
    std: np.ndarray | float = field(default=1.0, repr=False)

    def __post_init__(self) -> None:
        self.scaling = Scaling(self.scaling)
        if self.scaling is Scaling.UNIT:
            self.mean, self.std = 0.0, 255.0
        elif self.scaling is Scaling.SYMMETRIC:
            self.mean, self.std = 127.5, 127.5

    @classmethod
    def fit(cls, frame_arrays: Iterable[np.ndarray], scaling: Scaling | str) -> Normalizer:
        """A normaliser for ``scaling``; STANDARD learns per-pixel statistics of the frames.

        Args:
            frame_arrays: prepared uint8 clips ``[N, H, W, C]`` (training data only), any
                iterable (read once).
            scaling: the scaling to fit.

        """
        if Scaling(scaling) is not Scaling.STANDARD:
            return cls(scaling)
        # One pass, clip by clip, in float64: no float copy of all frames, and a stream of
        # clips (`regularity.data.clipstore`) is read once.
        total = squares = 0.0
        count = 0
        for clip in frame_arrays:
            total = total + clip.sum(axis=0, dtype=np.float64)
            squares = squares + np.square(clip, dtype=np.float64).sum(axis=0)
            count += len(clip)
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
        # A floor keeps static pixels (std ~ 0) from turning sensor noise into huge inputs.
        std = np.maximum(std, 0.05 * std.mean() + 1.0)
        return cls(scaling, mean.astype(np.float32), std.astype(np.float32))

    def apply(self, frames):  # noqa: ANN001, ANN201 - NumPy arrays and tf tensors alike
        """Scale float frames (values 0..255) to the model's input scale."""
        return (frames - self.mean) / self.std

    def invert(self, scaled):  # noqa: ANN001, ANN201
        """Back from the model's scale to 0..255 (float, not clipped)."""
        return scaled * self.std + self.mean

    def to_uint8(self, scaled: np.ndarray) -> np.ndarray:
        """Model output back to displayable uint8 frames."""
        return np.clip(np.rint(self.invert(np.asarray(scaled, np.float32))), 0, 255).astype(
            np.uint8
        )

    def save(self, path: str | Path) -> None:
        """Write the statistics next to a model (``normalizer.npz``)."""
        np.savez(path, scaling=self.scaling.value, mean=self.mean, std=self.std)

    @classmethod
    def load(cls, path: str | Path) -> Normalizer:
        """Read what `save` wrote."""
        with np.load(path) as data:
            return cls(str(data["scaling"]), data["mean"], data["std"])


def motion_energy(frames: np.ndarray) -> float:
    """Mean L2 distance between consecutive frames, per pixel: the RMS of ``I_t - I_{t-1}``.

    In grey levels (0..255), so that clips of different sizes compare; 0 for a still clip.

    >>> motion_energy(np.array([[[0]], [[3]], [[3]]], np.uint8))
    1.5
    """
    frames = np.asarray(frames, np.float32)
    if len(frames) < 2:
        return 0.0
    steps = np.diff(frames, axis=0).reshape(len(frames) - 1, -1)
    return float(np.sqrt(np.square(steps).mean(axis=1)).mean())


def drop_low_motion(videos: Iterable, threshold: float) -> tuple[list, dict[str, float]]:
    """The videos that move at least ``threshold`` (`motion_energy`) and those dropped.

    A predictor trained on clips where nothing moves learns to copy the last frame; the
    dropped ones are returned by name with their energy, so that they are reported.
    """
    kept, dropped = [], {}
    for video in videos:
        energy = motion_energy(video.frames)
        if energy >= threshold:
            kept.append(video)
        else:
            dropped[video.name] = round(energy, 3)
        video.release()
    return kept, dropped


@dataclass
class InputSpec:
    """How a model's inputs are made from uint8 frames (saved in every run's config)."""

    size: tuple[int, int]  # (height, width): the run config's, the one default
    color: str = Color.GREY.value
    motion: bool | str = False  # `MotionInput`

    def __post_init__(self) -> None:
        self.size = tuple(int(v) for v in self.size)
        self.color = Color(self.color).value
        self.motion = MotionInput.of(self.motion).setting()
        # OpenCV's DIS flow fails, or crashes the process, on smaller frames.
        kinds = MotionInput.of(self.motion).kinds
        if MotionInput.FLOW in kinds and min(self.size) < FLOW_MIN_SIDE:
            raise ValueError(
                f"optical-flow motion channels need frames of {FLOW_MIN_SIDE} pixels or more "
                f"a side, not {self.size}"
            )
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"size must be (height, width), got {self.size}")

    @property
    def colours(self) -> int:
        """Channels of the frame itself, the first of a prepared frame's: 1 (grey) or 3 (RGB)."""
        return 3 if self.color == Color.RGB.value else 1

    @property
    def channels(self) -> int:
        """Channels of a prepared frame: its `colours`, and as many per motion kind."""
        return self.colours * (1 + len(MotionInput.of(self.motion).kinds))

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        """Prepared uint8 frames ``[N, H, W, C]`` for this spec."""
        return prepare_frames(frames, tuple(self.size), self.color, self.motion)
