"""Windows over clips as index arithmetic, and the batches that stream them to any backend.

A window is ``span`` frames taken every ``skip`` frames (``skip`` > 1 is the "selection at an
interval" of UCF-101 prediction and the temporal-stride augmentation of Chong & Tay 2017);
consecutive windows start ``stride`` frames apart. `WindowSpec` says which of a window's frames
are inputs and which are targets, for training and testing alike. Only indices are stored:
frames are gathered from the uint8 clip store batch by batch and scaled on the fly.

Skip-frame pseudo anomalies (Astrid et al. 2021, "Learning Not to Reconstruct Anomalies"): some
training windows show their input frames ``jump`` apart (motion too fast to be normal) and must
still give the targets of the normal window from the same start, so that an autoencoder learns
not to reproduce fast motion and a predictor not to carry it on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from regularity.data.clipstore import DiskClips, MemoryClips
from regularity.data.preprocess import MotionInput, Normalizer, motion_between

if TYPE_CHECKING:
    import tensorflow as tf


class Target(str, Enum):
    """What a model must output for a window of input frames."""

    SAME = "same"  # T frames -> the same T (autoencoders)
    NEXT = "next"  # k frames -> the one that follows (next-frame predictors)
    FUTURE = "future"  # k frames -> the n that follow (sequence-to-sequence predictors)
    SHIFTED = "shifted"  # frames t..t+S-1 -> t+1..t+S (sequences predicting their successors)


@dataclass(frozen=True)
class WindowSpec:
    """The window contract: which frames a model sees and which it must output.

    A window covers ``span`` frames, ``skip`` apart on the clip; ``positions()`` says which of
    them are inputs and which are targets. Training windows (`window_batches`) and test-time
    inference (`regularity.score.inference.predict_test_data`) both take their frame indices from
    `WindowSpec.split`, so that what a model is trained on and what it is tested on agree.

    >>> spec = WindowSpec(Target.FUTURE, inputs=2, outputs=2)
    >>> [i.tolist() for i in spec.split(spec.windows(5))]
    [[[0, 1], [1, 2]], [[2, 3], [3, 4]]]
    >>> [i.tolist() for i in WindowSpec(Target.SHIFTED, 3).split(np.array([[0, 1, 2, 3]]))]
    [[[0, 1, 2]], [[1, 2, 3]]]
    """

    target: Target | str = Target.SAME
    inputs: int = 10
    outputs: int = 1  # frames predicted by `Target.FUTURE`; the other targets imply theirs
    skip: int = 1  # frames between the frames of a window ("selection at an interval")

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", Target(self.target))
        implied = {Target.SAME: self.inputs, Target.NEXT: 1, Target.SHIFTED: self.inputs}
        object.__setattr__(self, "outputs", implied.get(self.target, self.outputs))
        if self.inputs < 1 or self.outputs < 1 or self.skip < 1:
            raise ValueError(f"a window needs inputs, outputs and skip >= 1, got {self}")

    @property
    def span(self) -> int:
        """Frames one window covers, inputs and targets together."""
        if self.target is Target.SAME:
            return self.inputs
        if self.target is Target.SHIFTED:
            return self.inputs + 1
        return self.inputs + self.outputs

    @property
    def frames_needed(self) -> int:
        """Frames a clip needs for one whole window (its span, frames ``skip`` apart)."""
        return (self.span - 1) * self.skip + 1

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the input frames and of the target frames within a window."""
        inputs = np.arange(self.inputs)
        if self.target is Target.SAME:
            return inputs, inputs
        if self.target is Target.SHIFTED:
            return inputs, inputs + 1
        return inputs, self.inputs + np.arange(self.outputs)

    def windows(self, n_frames: int, stride: int = 1, cover_end: bool = False) -> np.ndarray:
        """Frame indices ``[n_windows, span]`` of every window of a clip (`window_indices`)."""
        return window_indices(n_frames, self.span, stride, self.skip, cover_end)

    def split(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frame indices of each window's inputs ``[W, inputs]`` and targets ``[W, outputs]``."""
        inputs, targets = self.positions()
        return windows[:, inputs], windows[:, targets]

    @property
    def test_stride(self) -> int:
        """Default stride at test time.

        Disjoint windows for a reconstruction of consecutive frames (they cover every frame),
        every start otherwise.
        """
        return self.inputs if self.target is Target.SAME and self.skip == 1 else 1

    @classmethod
    def of(cls, value: WindowSpec | dict | int) -> WindowSpec:
        """A spec from a spec, a dict (``config.json``) or a length (reconstruct that many)."""
        if isinstance(value, WindowSpec):
            return value
        if isinstance(value, dict):
            return cls(**value)
        return cls(Target.SAME, int(value))


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


def check_pseudo_anomalies(
    anomalies: SkipFrameAnomalies | None, window: WindowSpec, skips: int | Sequence[int]
) -> None:
    """Refuses pseudo anomalies a window cannot show: one input, or jumps trained as normal."""
    if anomalies is None:
        return
    if window.inputs < 2:
        raise ValueError("skip-frame pseudo anomalies need windows of 2 input frames or more")
    if np.max(skips) * window.skip >= min(anomalies.jumps):
        raise ValueError(
            f"skips {skips} are trained as normal motion, so pseudo-anomaly jumps "
            f"{anomalies.jumps} must all be larger"
        )


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
    span = (length - 1) * skip + 1  # as `WindowSpec.frames_needed`
    starts = np.arange(0, max(n_frames - span + 1, 0), stride)
    if cover_end and (len(starts) == 0 or starts[-1] + span < n_frames):
        starts = np.append(starts, max(n_frames - span, 0))
    windows = starts[:, None] + np.arange(length) * skip
    return np.minimum(windows, n_frames - 1)


def windows_of_clips(
    lengths: Sequence[int],
    window: WindowSpec | int,
    stride: int = 1,
    skips: int | Sequence[int] = 1,
) -> np.ndarray:
    """Windows ``[n, span]`` of several clips laid end to end, as indices into their concatenation.

    Each skip in ``skips`` multiplies the window's own ``skip`` (temporal-stride augmentation);
    a clip too short for a window at some skip gives none there.
    """
    window = WindowSpec.of(window)
    skips = [skips] if isinstance(skips, int) else list(skips)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    blocks = [
        offset + window_indices(n, window.span, stride, skip * window.skip)
        for n, offset in zip(lengths, offsets, strict=True)
        for skip in skips
        if (window.span - 1) * skip * window.skip < n
    ]
    if not blocks:
        raise ValueError(f"no clip is long enough for a window of {window.span} frames")
    return np.concatenate(blocks).astype(np.int32)


Transform = Callable[[np.ndarray, np.ndarray, np.random.Generator], tuple]


class WindowBatches:
    """Every (inputs, targets) batch of every epoch, as NumPy: the same on every Keras backend.

    Batch ``b`` of epoch ``e`` depends only on (seed, e, b): the epoch's order is a permutation
    drawn from ``(seed, e)`` and each random choice in a batch (pseudo anomalies, noise,
    patches) from ``(seed, e, b)``. `dataset` serves these batches to ``fit``: through
    ``tf.data`` under TensorFlow, a ``keras.utils.PyDataset`` under JAX or PyTorch, so that a
    seed trains on the same batches whatever the backend.
    """

    def __init__(
        self,
        store: MemoryClips | DiskClips,
        window: WindowSpec,
        normalizer: Normalizer,
        batch_size: int,
        indices: np.ndarray,
        bounds: np.ndarray,
        *,
        shuffle: bool,
        seed: int,
        drop_remainder: bool,
        pseudo_anomalies: SkipFrameAnomalies | None,
        motion: bool | str,
        transform: Transform | None,
    ) -> None:
        self.store, self.window, self.normalizer = store, window, normalizer
        self.batch_size, self.indices, self.bounds = batch_size, indices, bounds
        self.shuffle, self.seed, self.drop_remainder = shuffle, seed, drop_remainder
        self.pseudo_anomalies, self.motion, self.transform = pseudo_anomalies, motion, transform

    def __len__(self) -> int:
        """Batches per epoch."""
        whole, rest = divmod(len(self.indices), self.batch_size)
        return whole + int(bool(rest) and not self.drop_remainder)

    def order(self, epoch: int) -> np.ndarray:
        """The windows of an epoch, in the order its batches take them."""
        if not self.shuffle:
            return np.arange(len(self.indices))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.indices))

    def batch(self, epoch: int, number: int, order: np.ndarray | None = None) -> tuple:
        """Batch ``number`` of ``epoch``: scaled float32 (inputs, targets), transformed."""
        order = self.order(epoch) if order is None else order
        chosen = order[number * self.batch_size : (number + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, epoch, number])
        indices = self.indices[chosen]
        if self.pseudo_anomalies is not None:
            inputs, targets = _with_skip_frames(
                self.store.gather, indices, self.bounds[chosen], self.window,
                self.pseudo_anomalies, self.motion, rng,
            )  # fmt: skip
            inputs, targets = self.scale(inputs), self.scale(targets)
        else:
            windows = self.scale(self.store.gather(indices))
            input_positions, target_positions = self.window.positions()
            inputs, targets = windows[:, input_positions], windows[:, target_positions]
        pair = inputs, targets[:, 0] if self.window.target is Target.NEXT else targets
        return self.transform(*pair, rng) if self.transform is not None else pair

    def scale(self, uint8_windows: np.ndarray) -> np.ndarray:
        """uint8 frames on the model's scale (the normaliser's statistics are float32)."""
        return self.normalizer.apply(uint8_windows.astype(np.float32))

    def epoch(self, epoch: int) -> Iterator[tuple]:
        """The batches of one epoch, in order."""
        order = self.order(epoch)
        for number in range(len(self)):
            yield self.batch(epoch, number, order)

    def dataset(self) -> object:
        """What ``fit`` takes on this Keras backend: a ``tf.data.Dataset`` or a ``PyDataset``.

        Each pass over either is the next epoch (0 first); both have ``len()``.
        """
        import keras

        if keras.backend.backend() == "tensorflow":
            return self.tf_dataset()
        from regularity.data.sequence import WindowSequence

        return WindowSequence(self)

    def tf_dataset(self) -> tf.data.Dataset:
        """The batches as a ``tf.data.Dataset``: each iteration the next epoch, prefetched.

        (epoch, batch) pairs, the next epoch on each new iteration (a Keras epoch); the batches
        themselves are made by `batch` in parallel calls, in order.
        """
        import tensorflow as tf

        structure = tf.nest.map_structure(
            lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)), self.batch(0, 0)
        )
        specs = tf.nest.flatten(structure)
        epochs = iter(range(2**31))

        def next_epoch() -> np.int64:
            return np.int64(next(epochs))

        def flat_batch(epoch: np.ndarray, number: np.ndarray) -> list:
            return tf.nest.flatten(self.batch(int(epoch), int(number)))

        def load(epoch, number):  # noqa: ANN001, ANN202
            flat = tf.numpy_function(
                flat_batch, [epoch, number], [s.dtype for s in specs], stateful=False
            )
            for tensor, spec in zip(flat, specs, strict=True):
                tensor.set_shape(spec.shape)
            return tf.nest.pack_sequence_as(structure, flat)

        # Windows come from memory, not files: a multi-worker strategy shards them by batch
        # (DATA); its default (AUTO) looks for files first and warns.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        # The epoch is asked for once per iteration (a Keras epoch), when its first batch is.
        # Not `Dataset.from_generator`: with one, every training step of the autoencoder took
        # twice as long on two cores (docs/experiments.md), though it only named the batches.
        epoch = tf.data.Dataset.from_tensors(np.int64(0)).map(
            lambda _: tf.ensure_shape(tf.numpy_function(next_epoch, [], tf.int64), ())
        )
        batches = tf.data.Dataset.range(len(self))
        return (
            epoch.flat_map(lambda e: batches.map(lambda number: (e, number)))
            .apply(tf.data.experimental.assert_cardinality(len(self)))
            .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
            .with_options(options)
        )


def window_batches(
    clips: Sequence[np.ndarray] | MemoryClips | DiskClips,
    window: WindowSpec | int,
    normalizer: Normalizer,
    batch_size: int = 4,
    stride: int = 1,
    skips: int | Sequence[int] = 1,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    pseudo_anomalies: SkipFrameAnomalies | None = None,
    motion: bool | str = False,
    transform: Transform | None = None,
) -> WindowBatches:
    """The (inputs, targets) batches of windows over uint8 clips, epoch by epoch (NumPy).

    Args:
        clips: prepared uint8 clips ``[N, H, W, C]`` (`regularity.data.preprocess.prepare_frames`)
            or a store of them (`regularity.data.clipstore`): a batch gathers only its frames.
        window: the window contract (an int: reconstruct windows of that many frames). Inputs
            are ``[B, inputs, H, W, C]``; targets ``[B, outputs, H, W, C]``, or ``[B, H, W, C]``
            for `Target.NEXT`.
        normalizer: scaling applied to each gathered batch.
        batch_size: windows per batch.
        stride: frames between window starts.
        skips: one skip or several (each window set is added: temporal-stride augmentation).
        shuffle: a new order of the windows every epoch (random-start batches).
        seed: the seed of every order and every random choice in a batch.
        drop_remainder: drop the last short batch (needed by some distribution strategies).
        pseudo_anomalies: turn that share of windows into skip-frame inputs whose targets are
            the normal window's from the same start.
        motion: the clips carry motion channels of that kind (`MotionInput`,
            `regularity.data.preprocess.prepare_frames`), which a skip-frame input must show at
            its own jump.
        transform: called on each scaled ``(inputs, targets)`` batch with the batch's random
            generator, returns the pair to train on (noise on the inputs only, patches, ...).

    """
    window = WindowSpec.of(window)
    store = clips if isinstance(clips, MemoryClips | DiskClips) else MemoryClips(clips)
    check_pseudo_anomalies(pseudo_anomalies, window, skips)
    lengths = store.lengths
    indices = windows_of_clips(lengths, window, stride, skips)
    ends = np.cumsum(lengths)
    clip_of_window = np.searchsorted(ends, indices[:, 0], side="right")
    bounds = np.stack([ends - lengths, ends - 1], axis=1)[clip_of_window].astype(np.int32)
    return WindowBatches(
        store, window, normalizer, batch_size, indices, bounds, shuffle=shuffle, seed=seed,
        drop_remainder=drop_remainder, pseudo_anomalies=pseudo_anomalies, motion=motion,
        transform=transform,
    )  # fmt: skip


def _with_skip_frames(gather, indices, bounds, window, anomalies, motion, rng):  # noqa: ANN001, ANN202
    """uint8 (inputs, targets) of one batch in which a random share of windows jump frames.

    A jumping window's inputs are ``jump`` frames apart; its targets stay those of the normal
    window from the same start.
    """
    batch, span = indices.shape
    input_positions, target_positions = window.positions()
    first, last = bounds[:, 0], bounds[:, 1]
    jump = np.asarray(anomalies.jumps)[rng.integers(0, len(anomalies.jumps), batch)]
    # Move the start back where the jumping inputs would run past their clip's end.
    reach = np.maximum(input_positions[-1] * jump, (span - 1) * window.skip)
    start = np.maximum(np.minimum(indices[:, 0], last - reach), first)
    skipped = np.minimum(start[:, None] + input_positions[None] * jump[:, None], last[:, None])
    normal = np.minimum(start[:, None] + np.arange(span)[None] * window.skip, last[:, None])
    chosen = rng.random(batch) < anomalies.rate
    windows = gather(np.where(chosen[:, None], normal, indices))
    # A window that does not jump keeps its own inputs: only the jumping ones are read again.
    inputs, targets = windows[:, input_positions], windows[:, target_positions]
    if not chosen.any():
        return inputs, targets
    if MotionInput.of(motion) is MotionInput.NONE:
        inputs[chosen] = gather(skipped[chosen])
        return inputs, targets
    # Stored motion channels hold the motion from each frame's predecessor; a jumping window
    # must show the motion across its own jump, or its motion would look normal.
    colours = inputs.shape[-1] // (1 + len(MotionInput.of(motion).kinds))
    frames, own_jump, clip_start = skipped[chosen], jump[chosen, None], first[chosen]
    predecessors = np.concatenate([frames[:, :1] - own_jump, frames[:, :-1]], 1)
    # A window starting on its clip's first frame has no predecessor there: as in
    # `regularity.data.preprocess.previous_frames`, that frame is paired with its successor.
    predecessors[:, 0] = np.where(predecessors[:, 0] < clip_start, frames[:, 1], predecessors[:, 0])
    length = frames.shape[1]
    pairs = gather(np.concatenate([predecessors, frames], 1))[..., :colours]  # one read
    shown = pairs[:, length:]
    change = motion_between(pairs[:, :length], shown, motion)
    inputs[chosen] = np.concatenate([shown, change], -1)
    return inputs, targets


NOISE_KINDS = ("gaussian", "uniform")


def input_noise(kind: str, level: float) -> object:
    """A batch transform adding ``kind`` noise of ``level`` to the inputs (None for level 0).

    ``"gaussian"``: std ``level``; ``"uniform"``: in ``[-level, level]``; the targets are left
    clean, so that the generator learns to give back the clean window.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {NOISE_KINDS}, not {kind!r}")
    if not level:
        return None
    level = float(level)

    def add_noise(inputs, targets, rng):  # noqa: ANN001, ANN202
        if kind == "gaussian":
            noise = rng.normal(0.0, level, inputs.shape)
        else:
            noise = rng.uniform(-level, level, inputs.shape)
        return (inputs + noise).astype(inputs.dtype), targets

    return add_noise
