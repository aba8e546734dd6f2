"""From a video to one model output per frame, under the window contract (`WindowSpec`).

``get_test_data`` prepares and scales a clip as training did (`InputSpec`, the run's
normaliser); ``predict_test_data`` runs a model over its windows and places every output on the
clip's frame axis where `WindowSpec.split` says its target frame is.
"""

from __future__ import annotations

import keras
import numpy as np
from tqdm.auto import tqdm

from regularity.data.base import Video
from regularity.data.preprocess import InputSpec, Normalizer
from regularity.data.windows import Target, WindowSpec

# Windows per model call when scoring: on two CPU cores 16 scores most families a tenth to a
# quarter faster than 8; 32 adds little and takes the largest scoring memory to the 3 GiB budget
# (docs/experiments.md, "Scoring in batches of 16"). Under JAX a clip of at most this many
# windows is one batch of its own size, compiled once per such clip length.
SCORING_BATCH = 16


def scaled_frames(frames: np.ndarray, normalizer: Normalizer) -> np.ndarray:
    """Prepared frames on the model's input scale: float32 ``[N, H, W, C]``."""
    return normalizer.apply(frames.astype(np.float32)).astype(np.float32)


def get_test_data(video: Video, spec: InputSpec, normalizer: Normalizer) -> np.ndarray:
    """A test video's frames resized, converted and scaled: float32 ``[N, H, W, C]``."""
    return scaled_frames(spec.prepare(video.frames), normalizer)


def predict_test_data(
    model: object,
    frames: np.ndarray,
    window: WindowSpec | int = 10,
    stride: int | None = None,
    batch_size: int = SCORING_BATCH,
    progress: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One model output per frame, aligned with the frames.

    Args:
        model: maps input windows ``[B, inputs, H, W, C]`` to the window's targets
            ``[B, outputs, H, W, C]`` (or ``[B, H, W, C]`` for one output).
        frames: scaled frames ``[N, H, W, C]`` (see `get_test_data`).
        window: the contract the model was trained under (an int: reconstruct that many).
        stride: frames between window starts (default `WindowSpec.test_stride`); outputs that
            land on the same frame are averaged, and the last window ends on the last frame, so
            that every frame a model can produce gets exactly one output.
        batch_size: windows per model call.
        progress: a name: show a bar of the windows under it (a long clip takes minutes).

    Returns:
        ``outputs`` like ``frames`` (or ``[N]`` for a model giving one value per target frame,
        such as a discriminator's logit), and ``valid`` [N] bool: False for frames no window
        targets (the first frames of a predictor), whose outputs are copies of the input (0 for
        per-frame values).

    """
    window = WindowSpec.of(window)
    n = len(frames)
    windows = window.windows(n, stride or window.test_stride, cover_end=True)
    if window.target is not Target.SAME:
        # In a clip shorter than a window the indices are clamped to its last frame, which
        # would then be its own target: a copy, not a prediction.
        windows = windows[(np.diff(windows, axis=1) > 0).all(axis=1)]
    inputs, placed = window.split(windows)
    # Frame-shaped outputs (reconstructions, predictions), or one value per target frame (a
    # critic's logit: outputs [B, T]).
    per_frame = len(getattr(model, "output_shape", ())) == 2
    shape = () if per_frame else frames.shape[1:]
    total, count = np.zeros((n, *shape), np.float32), np.zeros(n, dtype=np.float32)
    # Pad a short last batch only to a whole number per replica: padding to a full batch would
    # cost a quarter of the model calls on a typical 150-frame clip. Under JAX, though, every
    # new batch shape is compiled again (1-2 s each for a tiny network on a CPU, up to one per
    # clip length), where TensorFlow relaxes the shape after its second: there a short batch
    # after full ones is padded to a full one, whose program exists already. A clip of one
    # batch keeps its size (the speed benchmark's single large batch is not padded to twice).
    replicas = getattr(getattr(model, "distribute_strategy", None), "num_replicas_in_sync", 1)
    on_jax = keras.backend.backend() == "jax"
    bar = tqdm(total=len(inputs), desc=progress, unit="window", leave=False, disable=not progress)
    for i in range(0, len(inputs), batch_size):  # no window at all: every frame invalid
        bar.update(min(batch_size, len(inputs) - i))
        chunk = inputs[i : i + batch_size]
        pad_to = batch_size if on_jax and i else replicas
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], -len(chunk) % pad_to, 0)])
        out = np.asarray(model.predict_on_batch(frames[padded]), np.float32)[: len(chunk)]
        out = out.reshape(len(chunk), window.outputs, *shape)
        for where, window_out in zip(placed[i : i + batch_size], out, strict=True):
            # Fancy-index += is fast but drops repeats; only clips shorter than a window
            # repeat a frame inside one window, and those take the slow exact path.
            if len(np.unique(where)) == len(where):
                total[where] += window_out
                count[where] += 1
            else:
                np.add.at(total, where, window_out)
                np.add.at(count, where, 1)
    bar.close()
    valid = count > 0
    uncovered = np.zeros_like(total) if per_frame else frames  # a frame no window targets
    where = valid.reshape(-1, *[1] * (total.ndim - 1))
    outputs = np.where(where, total / np.maximum(count, 1).reshape(where.shape), uncovered)
    return outputs.astype(np.float32), valid
