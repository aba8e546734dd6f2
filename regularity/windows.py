"""Windows over clips as index arithmetic, and the `tf.data` pipeline that streams them.

A window is ``length`` frames taken every ``skip`` frames (``skip`` > 1 is the "selection at an
interval" of UCF-101 prediction and the temporal-stride augmentation of Chong & Tay 2017);
consecutive windows start ``stride`` frames apart. Only indices are stored: frames are gathered
from the cached uint8 clips batch by batch and scaled on the fly.
"""

from __future__ import annotations

from collections.abc import Sequence
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

    Returns:
        The dataset; its ``cardinality()`` is the number of batches per epoch.

    """
    import tensorflow as tf

    indices = windows_of_clips([len(c) for c in clips], length, stride, skips)
    # One uint8 tensor of all frames; each batch gathers its windows from it.
    frames = tf.constant(np.concatenate(clips) if len(clips) > 1 else clips[0])
    dataset = tf.data.Dataset.from_tensor_slices(indices)
    if shuffle:
        dataset = dataset.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
    target = Target(target)

    def gather(batch_indices):  # noqa: ANN001, ANN202
        windows = normalizer.apply(tf.cast(tf.gather(frames, batch_indices), tf.float32))
        if target is Target.NEXT:
            return windows[:, :-1], windows[:, -1]
        return windows, windows

    return (
        dataset.batch(batch_size, drop_remainder=drop_remainder)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
