"""Prediction quality: PSNR, SSIM and sharpness, over whole frames and over moving pixels.

These figures always stand beside the copy-last-frame baseline, which predicts
that nothing moves: a predictor earns its place only where it beats that baseline, and the
moving pixels (found by dense optical flow between consecutive real frames) are where it can.
Frames are on the grey-level scale (0..255, float or uint8) unless a ``peak`` says otherwise.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from regularity.data.base import Color, convert_color
from regularity.score.scoring import psnr, psnr_of_mse

# Wang et al. 2004's SSIM window: an 11 x 11 Gaussian (sigma 1.5; skimage truncates it at 3.5
# sigma, radius 5), the same as tf.image.ssim. Pixels closer than the radius to the border are
# left out of every mean, as skimage and tf.image.ssim (a VALID convolution) both do.
_SIGMA = 1.5
_RADIUS = int(3.5 * _SIGMA + 0.5)


def _check_mask(mask: np.ndarray, frames: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask, bool)
    if mask.shape != frames.shape[:3]:
        raise ValueError(f"mask {mask.shape} must be [N, H, W] of frames {frames.shape}")
    return mask


def ssim(
    frames: np.ndarray,
    outputs: np.ndarray,
    data_range: float = 255.0,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """SSIM per frame of ``[N, H, W]`` or ``[N, H, W, C]`` pairs (scikit-image).

    The settings are Wang et al. 2004's (Gaussian window, sigma 1.5, population covariances),
    the same as ``tf.image.ssim``. Colour frames average the channels' SSIM maps.

    Args:
        frames: the real frames.
        outputs: the predictions, same shape.
        data_range: the span of the pixel values (255 for grey levels).
        mask: optional ``[N, H, W]`` bool; then each frame's SSIM is the mean of its SSIM map
            over the masked pixels only (NaN where none is left). As without a mask, pixels
            within the window's radius (5) of the border are left out.

    >>> ssim(np.zeros((1, 16, 16)), np.zeros((1, 16, 16))).tolist()
    [1.0]

    """
    whole, masked = _ssim_whole_and_masked(frames, outputs, data_range, mask)
    return whole if mask is None else masked


def _ssim_whole_and_masked(
    frames: np.ndarray, outputs: np.ndarray, data_range: float, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each frame's SSIM over the whole frame and over ``mask``, from one SSIM map per frame."""
    frames = np.asarray(frames, np.float64)
    outputs = np.asarray(outputs, np.float64)
    if frames.shape != outputs.shape or frames.ndim not in (3, 4):
        raise ValueError(f"need two [N, H, W(, C)] arrays, got {frames.shape}, {outputs.shape}")
    if mask is not None:
        mask = _check_mask(mask, frames)
    colour = frames.ndim == 4
    inner = (slice(_RADIUS, -_RADIUS), slice(_RADIUS, -_RADIUS))
    whole = np.empty(len(frames))
    masked = None if mask is None else np.empty(len(frames))
    for i, (frame, output) in enumerate(zip(frames, outputs, strict=True)):
        whole[i], ssim_map = structural_similarity(
            frame,
            output,
            data_range=data_range,
            channel_axis=-1 if colour else None,
            gaussian_weights=True,
            sigma=_SIGMA,
            use_sample_covariance=False,
            full=True,
        )
        if mask is not None:
            ssim_map = ssim_map.mean(axis=-1) if colour else ssim_map
            selected = ssim_map[inner][mask[i][inner]]
            masked[i] = selected.mean() if selected.size else np.nan
    return whole, masked


def masked_psnr(
    frames: np.ndarray, outputs: np.ndarray, peak: float = 255.0, mask: np.ndarray | None = None
) -> np.ndarray:
    """PSNR per frame over all pixels (`regularity.score.scoring.psnr`) or over masked pixels only.

    Args:
        frames: the real frames ``[N, H, W]`` or ``[N, H, W, C]``.
        outputs: the predictions, same shape.
        peak: the largest pixel value.
        mask: optional ``[N, H, W]`` bool; the mse is then taken over the masked pixels (all
            their channels). A frame with an empty mask gives NaN.

    >>> f, o = np.zeros((1, 2, 2)), np.array([[[0.0, 10.0], [0.0, 0.0]]])
    >>> masked_psnr(f, o, 100.0, np.array([[[True, True], [False, False]]])).round(6).tolist()
    [23.0103]

    """
    if mask is None:
        return psnr(frames, outputs, peak)
    diff = np.asarray(frames, np.float64) - np.asarray(outputs, np.float64)
    mask = _check_mask(mask, diff)
    squared = np.square(diff)
    if squared.ndim == 4:
        squared = squared.mean(axis=-1)
    count = mask.reshape(len(mask), -1).sum(axis=1)
    total = np.where(mask, squared, 0.0).reshape(len(mask), -1).sum(axis=1)
    mse = np.divide(total, count, out=np.full(len(mask), np.nan), where=count > 0)
    return psnr_of_mse(mse, peak)


def sharpness(frames: np.ndarray, outputs: np.ndarray, peak: float = 255.0) -> np.ndarray:
    """Sharpness difference per frame (Mathieu, Couprie & LeCun 2016, section 4.1).

    ``10 log10(peak^2 / ((1/N) sum_ij |(grad_i Y + grad_j Y) - (grad_i Ŷ + grad_j Ŷ)|))``
    with ``grad_i Y = |Y[i, j] - Y[i-1, j]|`` and ``grad_j Y = |Y[i, j] - Y[i, j-1]|``, from
    "Deep multi-scale video prediction beyond mean square error", ICLR 2016. Higher is sharper
    (closer to the real frame's gradients). The sum runs over the pixels where both gradients
    are defined (``i, j >= 1``) and over channels; N counts them. The denominator is floored
    at 1e-12 (`regularity.score.scoring.psnr_of_mse`).

    Args:
        frames: the real frames Y, ``[N, H, W]`` or ``[N, H, W, C]``.
        outputs: the predictions Ŷ, same shape.
        peak: the largest pixel value (``max_I``).

    >>> y = np.zeros((1, 3, 3)); y[0, 1, 1] = 1.0
    >>> sharpness(y, np.zeros((1, 3, 3)), peak=10.0).round(6).tolist()
    [20.0]

    """
    frames = np.asarray(frames, np.float64)
    outputs = np.asarray(outputs, np.float64)
    if frames.shape != outputs.shape or frames.ndim not in (3, 4):
        raise ValueError(f"need two [N, H, W(, C)] arrays, got {frames.shape}, {outputs.shape}")

    def gradients(y: np.ndarray) -> np.ndarray:
        return np.abs(y[:, 1:, 1:] - y[:, :-1, 1:]) + np.abs(y[:, 1:, 1:] - y[:, 1:, :-1])

    difference = np.abs(gradients(frames) - gradients(outputs))
    return psnr_of_mse(difference.reshape(len(difference), -1).mean(axis=1), peak)


def _grey_uint8(frames: np.ndarray) -> np.ndarray:
    """``[N, H, W]`` or ``[N, H, W, C]`` (C = 1 or 3, RGB) on 0..255 -> grey uint8 ``[N, H, W]``."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    return convert_color(frames, Color.GREY)[..., 0]


def moving_mask(previous: np.ndarray, current: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """Pixels of ``current`` that moved since ``previous``: dense optical flow above a threshold.

    Farneback's flow (OpenCV) on grey uint8 frames; colour frames (RGB) are converted to grey.
    The flow's averaging window spreads the mask past a moving object's edges (up to about 10
    pixels into a flat background; less where the background has texture to hold it still).

    Args:
        previous: the earlier frame(s) on 0..255: one pair ``[H, W]`` or ``[H, W, C]`` (a 3-D
            input whose last axis is 1 or 3 is one colour frame), or batches ``[N, H, W]`` or
            ``[N, H, W, C]``.
        current: the later frame(s), same shape.
        threshold: flow magnitude, in pixels per frame, above which a pixel counts as moving.

    Returns:
        bool ``[H, W]`` for one pair, ``[N, H, W]`` for batches.

    >>> bool(moving_mask(np.zeros((16, 16)), np.zeros((16, 16))).any())
    False

    """
    previous, current = np.asarray(previous), np.asarray(current)
    if previous.shape != current.shape:
        raise ValueError(f"shapes differ: {previous.shape}, {current.shape}")
    single = previous.ndim == 2 or (previous.ndim == 3 and previous.shape[-1] in (1, 3))
    if single:
        previous, current = previous[None], current[None]
    masks = []
    for before, after in zip(_grey_uint8(previous), _grey_uint8(current), strict=True):
        flow = cv2.calcOpticalFlowFarneback(before, after, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        masks.append(np.hypot(flow[..., 0], flow[..., 1]) > threshold)
    out = np.stack(masks)
    return out[0] if single else out


def copy_last_frame(inputs: np.ndarray, horizon: int) -> np.ndarray:
    """The copy-last-frame baseline: ``[B, k, H, W, C]`` inputs -> ``[B, horizon, H, W, C]``.

    >>> copy_last_frame(np.arange(3).reshape(1, 3, 1, 1, 1), 2).ravel().tolist()
    [2, 2]
    """
    inputs = np.asarray(inputs)
    return np.repeat(inputs[:, -1:], horizon, axis=1)


def _mean_or_none(values: np.ndarray) -> float | None:
    """Mean over the non-NaN values; None when there are none (strict-JSON safe)."""
    values = np.asarray(values, np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else None


def _figures(
    targets: np.ndarray, outputs: np.ndarray, moving: np.ndarray, peak: float
) -> dict[str, float | None]:
    """Mean PSNR, SSIM and sharpness of ``[B, H, W, C]`` pairs, whole frame and moving pixels."""
    ssim_whole, ssim_moving = _ssim_whole_and_masked(targets, outputs, peak, moving)
    return {
        "psnr": float(psnr(targets, outputs, peak).mean()),
        "ssim": float(ssim_whole.mean()),
        "sharpness": float(sharpness(targets, outputs, peak).mean()),
        "psnr_moving": _mean_or_none(masked_psnr(targets, outputs, peak, moving)),
        "ssim_moving": _mean_or_none(ssim_moving),
    }


def evaluate_prediction(
    targets: np.ndarray,
    predictions: np.ndarray,
    last_inputs: np.ndarray,
    peak: float = 255.0,
    flow_threshold: float = 1.0,
) -> dict[str, dict]:
    """Per predicted step, the model's figures beside the copy-last-frame baseline's.

    Step 1's moving pixels come from the flow between the last input frame and the first target;
    step s's from targets s-1 and s. Means over windows skip frames without moving pixels; a
    step where no frame moved reads None (never NaN, so the result is strict JSON).

    Args:
        targets: the real future frames ``[B, n, H, W, C]`` on 0..255 (float or uint8).
        predictions: the model's ``[B, n, H, W, C]``.
        last_inputs: each window's last input frame ``[B, H, W, C]``.
        peak: the largest pixel value.
        flow_threshold: see `moving_mask`.

    Returns:
        ``{"model": {"1": {...}, ...}, "copy_last_frame": {"1": {...}, ...},
        "moving_fraction": {"1": float, ...}}``, each inner dict holding ``psnr``, ``ssim``,
        ``sharpness``, ``psnr_moving`` and ``ssim_moving``.

    """
    targets, predictions = np.asarray(targets), np.asarray(predictions)
    last_inputs = np.asarray(last_inputs)
    if targets.shape != predictions.shape or targets.ndim != 5:
        raise ValueError(
            f"need two [B, n, H, W, C] arrays, got {targets.shape}, {predictions.shape}"
        )
    if last_inputs.shape != targets.shape[:1] + targets.shape[2:]:
        raise ValueError(f"last_inputs {last_inputs.shape} must be [B, H, W, C]")
    baseline = copy_last_frame(last_inputs[:, None], targets.shape[1])
    result: dict[str, dict] = {"model": {}, "copy_last_frame": {}, "moving_fraction": {}}
    before = last_inputs
    for step in range(targets.shape[1]):
        key = str(step + 1)
        moving = moving_mask(before, targets[:, step], flow_threshold)
        result["model"][key] = _figures(targets[:, step], predictions[:, step], moving, peak)
        result["copy_last_frame"][key] = _figures(targets[:, step], baseline[:, step], moving, peak)
        result["moving_fraction"][key] = float(moving.mean())
        before = targets[:, step]
    return result


def predict_future(model: object, windows: np.ndarray, steps: int, target: str) -> np.ndarray:
    """``steps`` predicted frames ``[B, steps, H, W, C]`` for input windows ``[B, k, H, W, C]``.

    A one-frame predictor (`Target.NEXT`) is fed its own predictions (recursive); a
    several-frame one (`Target.FUTURE`) gives its first ``steps`` outputs, which it made
    autoregressively.
    """
    from regularity.data.windows import Target

    if Target(target) is Target.FUTURE:
        return np.asarray(model.predict_on_batch(windows), np.float32)[:, :steps]
    predicted, current = [], np.asarray(windows, np.float32)
    for _ in range(steps):
        frame = np.asarray(model.predict_on_batch(current), np.float32)
        predicted.append(frame)
        current = np.concatenate([current[:, 1:], frame[:, None]], axis=1)
    return np.stack(predicted, axis=1)


def prediction_table(reports: dict[str, dict]) -> str:
    """A markdown table of `prediction_report` results, with copy-last-frame's row last.

    One row per predictor and predicted frame: PSNR and SSIM (whole, moving pixels), sharpness;
    the copy-last-frame rows come from the first report.
    """
    from regularity.show.plots import with_copy_last_frame

    rows = with_copy_last_frame(reports)
    keys = ("psnr", "psnr_moving", "ssim", "ssim_moving", "sharpness")
    lines = ["| predictor | frame | PSNR | PSNR moving | SSIM | SSIM moving | sharpness |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, figures in rows.items():
        for step in sorted(figures, key=int):
            cells = ["-" if figures[step][k] is None else f"{figures[step][k]:.3f}" for k in keys]
            lines.append(f"| {name} | {step} | {' | '.join(cells)} |")
    return "\n".join(lines)
