"""Windows over clips as index arithmetic, and the `tf.data` pipeline that streams them.

A window is ``length`` frames taken every ``skip`` frames (``skip`` > 1 is the "selection at an
interval" of UCF-101 prediction and the temporal-stride augmentation of Chong & Tay 2017);
consecutive windows start ``stride`` frames apart. Only indices are stored: frames are gathered
from the cached uint8 clips batch by batch and scaled on the fly.

Skip-frame pseudo anomalies (Astrid et al. 2021, "Learning Not to Reconstruct Anomalies"): some
training windows show frames ``jump`` apart (motion too fast to be normal) and must still be
reconstructed as the normal window from the same start, so that an autoencoder learns not to
reproduce fast motion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from regularity.preprocess import Normalizer

if TYPE_CHECKING:
    import tensorflow as tf


class Target(str, Enum):
    """What a window is split into for training."""

    SAME = "same"  # reconstruct the window itself (autoencoders)
    NEXT = "next"  # the first length-1 frames predict the last one (predictors)


@dataclass(frozen=True)
class SkipFrameAnomalies:
    """Which training windows become skip-frame pseudo anomalies (Astrid et al. 2021).

    Defaults are the published Ped2 setting: one window in five, jumps of 2 to 5 frames.
    """

    rate: float = 0.2
    jumps: tuple[int, ...] = (2, 3, 4, 5)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"pseudo-anomaly rate must lie in [0, 1], got {self.rate}")
        if not self.jumps or min(self.jumps) < 2:
            raise ValueError(f"pseudo-anomaly jumps must be 2 frames or more, got {self.jumps}")


def window_indices(
    n_frames: int, length: int, stride: int = 1, skip: int = 1, cover_end: bool = False
) -> np.ndarray:
    """Frame indices of every window of a clip, ``[n_windows, length]``.

    Args:
        n_frames: frames in the clip.
        length: frames per window.
        stride: frames between the starts of consecutive windows.
        skip: frames between consecutive frames of a window.
        cover_end: add a last window that ends on the clip's last frame, so that every frame
            is covered; a clip shorter than one window repeats its last frame.

    >>> window_indices(5, 3).tolist()
    [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    >>> window_indices(6, 3, stride=3, cover_end=True).tolist()
    [[0, 1, 2], [3, 4, 5]]
    >>> window_indices(7, 3, stride=3, cover_end=True).tolist()
    [[0, 1, 2], [3, 4, 5], [4, 5, 6]]

    """
    span = (length - 1) * skip + 1
    starts = np.arange(0, max(n_frames - span + 1, 0), stride)
    if cover_end and (len(starts) == 0 or starts[-1] + span < n_frames):
        starts = np.append(starts, max(n_frames - span, 0))
    windows = starts[:, None] + np.arange(length) * skip
    return np.minimum(windows, n_frames - 1)


def windows_of_clips(
    lengths: Sequence[int], length: int, stride: int = 1, skips: int | Sequence[int] = 1
) -> np.ndarray:
    """Windows of several clips laid end to end, as indices into their concatenation."""
    skips = [skips] if isinstance(skips, int) else list(skips)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    blocks = [
        offset + window_indices(n, length, stride, skip)
        for n, offset in zip(lengths, offsets, strict=True)
        for skip in skips
        if (length - 1) * skip < n
    ]
    if not blocks:
        raise ValueError(f"no clip is long enough for a window of {length} frames")
    return np.concatenate(blocks).astype(np.int32)


def window_dataset(
    clips: Sequence[np.ndarray],
    length: int,
    normalizer: Normalizer,
    batch_size: int = 4,
    stride: int = 1,
    skips: int | Sequence[int] = 1,
    target: Target | str = Target.SAME,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    pseudo_anomalies: SkipFrameAnomalies | None = None,
    motion: bool = False,
) -> tf.data.Dataset:
    """A `tf.data.Dataset` of (inputs, targets) batches of windows over uint8 clips.

    Args:
        clips: prepared uint8 clips ``[N, H, W, C]`` (see `regularity.preprocess.prepare_frames`).
        length: frames per window (for `Target.NEXT`, inputs are ``length - 1`` frames).
        normalizer: scaling applied to each gathered batch.
        batch_size: windows per batch.
        stride: frames between window starts.
        skips: one skip or several (each window set is added: temporal-stride augmentation).
        target: `Target.SAME` or `Target.NEXT`.
        shuffle: reshuffle the windows every epoch (random-start batches).
        seed: shuffling seed.
        drop_remainder: drop the last short batch (needed by some distribution strategies).
        pseudo_anomalies: turn that share of windows into skip-frame inputs whose target is the
            normal window from the same start (`Target.SAME` only).
        motion: the clips carry motion channels (`regularity.preprocess.prepare_frames`), which
            a skip-frame input must show at its own jump.

    Returns:
        The dataset; its ``cardinality()`` is the number of batches per epoch.

    """
    import tensorflow as tf

    target = Target(target)
    if pseudo_anomalies is not None:
        if target is not Target.SAME:
            raise ValueError(
                "skip-frame pseudo anomalies need reconstruction targets (Target.SAME)"
            )
        if np.max(skips) >= min(pseudo_anomalies.jumps):
            raise ValueError(
                f"skips {skips} are trained as normal motion, so pseudo-anomaly jumps "
                f"{pseudo_anomalies.jumps} must all be larger"
            )
    lengths = [len(c) for c in clips]
    indices = windows_of_clips(lengths, length, stride, skips)
    # One uint8 tensor of all frames; each batch gathers its windows from it.
    frames = tf.constant(np.concatenate(clips) if len(clips) > 1 else clips[0])
    ends = np.cumsum(lengths)
    clip_of_window = np.searchsorted(ends, indices[:, 0], side="right")
    bounds = np.stack([ends - lengths, ends - 1], axis=1)[clip_of_window].astype(np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((indices, bounds))
    if shuffle:
        dataset = dataset.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)

    def scale(uint8_windows):  # noqa: ANN001, ANN202
        return normalizer.apply(tf.cast(uint8_windows, tf.float32))

    def gather(batch_indices, batch_bounds):  # noqa: ANN001, ANN202
        if pseudo_anomalies is not None:
            inputs, targets = _with_skip_frames(
                frames, batch_indices, batch_bounds, pseudo_anomalies, motion
            )
            return scale(inputs), scale(targets)
        windows = scale(tf.gather(frames, batch_indices))
        if target is Target.NEXT:
            return windows[:, :-1], windows[:, -1]
        return windows, windows

    return (
        dataset.batch(batch_size, drop_remainder=drop_remainder)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def _with_skip_frames(frames, indices, bounds, anomalies, motion):  # noqa: ANN001, ANN202
    """uint8 (inputs, targets) of one batch in which a random share of windows jump frames."""
    import tensorflow as tf

    batch, length = tf.shape(indices)[0], tf.shape(indices)[1]
    first, last = bounds[:, 0], bounds[:, 1]
    pick = tf.random.uniform([batch], 0, len(anomalies.jumps), tf.int32)
    jump = tf.gather(tf.constant(anomalies.jumps, tf.int32), pick)
    # Move the start back where the jumping window would run past its clip's end.
    start = tf.maximum(tf.minimum(indices[:, 0], last - (length - 1) * jump), first)
    steps = tf.range(length)[None]
    skipped = tf.minimum(start[:, None] + steps * jump[:, None], last[:, None])
    normal = tf.minimum(start[:, None] + steps, last[:, None])
    chosen = tf.random.uniform([batch]) < anomalies.rate
    targets = tf.gather(frames, tf.where(chosen[:, None], normal, indices))
    if not motion:
        return tf.gather(frames, tf.where(chosen[:, None], skipped, indices)), targets
    # Stored motion channels hold |I_t - I_{t-1}|; a jumping window must show the difference
    # across its own jump, or its motion would look normal.
    half = frames.shape[-1] // 2
    before = tf.maximum(skipped[:, :1] - jump[:, None], first[:, None])
    shown = tf.gather(frames, tf.concat([before, skipped], 1))[..., :half]
    change = tf.abs(tf.cast(shown[:, 1:], tf.int16) - tf.cast(shown[:, :-1], tf.int16))
    # A window starting on its clip's first frame has no predecessor there: as in
    # `absolute_difference`, that frame takes its successor's difference.
    at_clip_start = (skipped[:, 0] - jump < first)[:, None, None, None, None]
    change = tf.concat([tf.where(at_clip_start, change[:, 1:2], change[:, :1]), change[:, 1:]], 1)
    jumping = tf.concat([shown[:, 1:], tf.cast(change, frames.dtype)], -1)
    return tf.where(chosen[:, None, None, None, None], jumping, tf.gather(frames, indices)), targets
