import json

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from regularity.score.quality import (
    copy_last_frame,
    evaluate_prediction,
    masked_psnr,
    moving_mask,
    sharpness,
    ssim,
)
from regularity.score.scoring import psnr

CAP = 10 * np.log10(255.0**2 / 1e-12)  # identical frames: the mse floor of scoring.psnr


def smooth_images(shape, seed=0):
    rng = np.random.default_rng(seed)
    sigma = (0, 2, 2, 0)[: len(shape)]
    return gaussian_filter(rng.random(shape) * 255, sigma)


def square_frame(left, height=64, width=96, top=20, side=12):
    frame = np.full((height, width), 60.0)
    frame[top : top + side, left : left + side] = 200.0
    return frame


def test_identical_frames_give_ssim_one_and_capped_psnr():
    x = smooth_images((2, 32, 32, 3))
    np.testing.assert_allclose(ssim(x, x), 1.0)
    np.testing.assert_allclose(masked_psnr(x, x), CAP)
    np.testing.assert_allclose(masked_psnr(x, x, mask=np.ones((2, 32, 32), bool)), CAP)


def test_constant_offset_gives_the_hand_computed_psnr():
    frames = np.full((3, 8, 8, 3), 100.0)
    # mse = 10^2 = 100 -> 10 log10(255^2 / 100) = 28.1308 dB
    np.testing.assert_allclose(masked_psnr(frames, frames + 10), 28.130803608679, atol=1e-9)
    np.testing.assert_allclose(masked_psnr(frames, frames - 10, peak=100.0), 20.0)


def test_masked_psnr_counts_only_masked_pixels():
    frames = np.zeros((2, 2, 2))
    outputs = np.array([[[0.0, 10.0], [0.0, 0.0]], [[20.0, 20.0], [20.0, 20.0]]])
    mask = np.array([[[False, True], [False, False]], [[False, False], [False, False]]])
    got = masked_psnr(frames, outputs, peak=255.0, mask=mask)
    # frame 0: only the pixel with error 10 counts, mse 100; frame 1: empty mask -> NaN
    np.testing.assert_allclose(got[0], 10 * np.log10(255.0**2 / 100))
    assert np.isnan(got[1])
    # the unmasked PSNR of frame 0 dilutes the same error over 4 pixels: mse 25
    np.testing.assert_allclose(masked_psnr(frames, outputs)[0], 10 * np.log10(255.0**2 / 25))
    # only the pixel at (0, 0), which is exact: the cap
    exact = np.array([[[True, False], [False, False]]] * 2)
    np.testing.assert_allclose(masked_psnr(frames, outputs, mask=exact)[0], CAP)


@pytest.mark.parametrize("shape", [(3, 32, 40), (2, 32, 40, 3)])
def test_ssim_agrees_with_tf_image_ssim(shape):
    tf = pytest.importorskip("tensorflow")
    x = smooth_images(shape, seed=1)
    y = np.clip(x + np.random.default_rng(2).normal(0, 12, shape), 0, 255)
    ours = ssim(x, y, data_range=255.0)
    as_tf = x if len(shape) == 4 else x[..., None]
    as_tf_y = y if len(shape) == 4 else y[..., None]
    theirs = tf.image.ssim(as_tf.astype("float32"), as_tf_y.astype("float32"), 255.0).numpy()
    assert 0.2 < ours.min() and ours.max() < 0.9  # a case where SSIM is neither 0 nor 1
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_masked_ssim_averages_the_map_over_the_mask():
    x = smooth_images((2, 32, 32), seed=3)
    y = x.copy()
    noise = np.random.default_rng(4).normal(0, 30, (2, 32, 16))
    y[:, :, 16:] = np.clip(y[:, :, 16:] + noise, 0, 255)
    everything = np.ones((2, 32, 32), bool)
    np.testing.assert_allclose(ssim(x, y, mask=everything), ssim(x, y))
    left = np.zeros((2, 32, 32), bool)
    left[:, :, :8] = True  # far from the noisy right half: the window never reaches it
    right = np.zeros((2, 32, 32), bool)
    right[:, :, 20:] = True
    np.testing.assert_allclose(ssim(x, y, mask=left), 1.0)
    assert (ssim(x, y, mask=right) < ssim(x, y)).all()
    assert np.isnan(ssim(x, y, mask=np.zeros((2, 32, 32), bool))).all()


def test_sharpness_hand_computed_3x3():
    y = np.zeros((1, 3, 3))
    y[0, 1, 1] = 9.0
    # over i, j >= 1: (|dy_i| + |dy_j|) is 18 at (1,1), 9 at (1,2) and (2,1), 0 at (2,2);
    # the prediction is flat, so the mean |difference| is 36 / 4 = 9
    np.testing.assert_allclose(sharpness(y, np.zeros_like(y)), 10 * np.log10(255.0**2 / 9))
    # colour: the same image in 3 channels gives the same mean
    y3 = np.repeat(y[..., None], 3, axis=-1)
    np.testing.assert_allclose(sharpness(y3, np.zeros_like(y3), peak=9.0), 10 * np.log10(9.0))


def test_blurred_prediction_is_less_sharp():
    target = np.kron(np.random.default_rng(5).integers(0, 2, (4, 6, 8)), np.ones((1, 4, 4)))
    target = target * 200.0 + 20.0
    sharp = 0.9 * target + 10.0  # a contrast change: gradients 10% off
    blurred = gaussian_filter(target, (0, 1.5, 1.5))
    assert (sharpness(target, sharp) > sharpness(target, blurred) + 5).all()


def test_moving_mask_finds_a_translated_square():
    before, after = square_frame(20), square_frame(23)
    mask = moving_mask(before, after)
    assert mask.shape == (64, 96)
    assert mask[20:32, 23:35].all()  # the square, where it is now
    far = np.ones((64, 96), bool)
    far[20 - 12 : 32 + 12, 20 - 12 : 35 + 12] = False  # more than 12 px from the square
    assert not mask[far].any()
    assert not moving_mask(before, before).any()
    # batches, and RGB frames converted to grey, give the same mask
    batch = moving_mask(np.stack([before, before]), np.stack([after, before]))
    np.testing.assert_array_equal(batch[0], mask)
    assert not batch[1].any()
    rgb = np.repeat(np.stack([before])[..., None], 3, axis=-1).astype(np.uint8)
    rgb_after = np.repeat(np.stack([after])[..., None], 3, axis=-1).astype(np.uint8)
    np.testing.assert_array_equal(moving_mask(rgb, rgb_after)[0], mask)
    np.testing.assert_array_equal(moving_mask(rgb[0], rgb_after[0]), mask)


def test_copy_last_frame_shape_and_values():
    inputs = np.arange(2 * 4 * 3 * 5 * 1).reshape(2, 4, 3, 5, 1)
    out = copy_last_frame(inputs, 3)
    assert out.shape == (2, 3, 3, 5, 1)
    for step in range(3):
        np.testing.assert_array_equal(out[:, step], inputs[:, -1])


def toy_clip(moving):
    """One window: 2 inputs, 2 targets, grey frames [T, H, W, 1] as uint8."""
    lefts = [20, 23, 26, 29] if moving else [20] * 4
    return np.stack([square_frame(left) for left in lefts])[..., None].astype(np.uint8)


def test_evaluate_prediction_perfect_model_beats_copy_last_frame():
    clip = toy_clip(moving=True)[None]
    targets = clip[:, 2:]
    result = evaluate_prediction(targets, targets.copy(), clip[:, 1])
    assert set(result) == {"model", "copy_last_frame", "moving_fraction"}
    for step in ("1", "2"):
        model, copy = result["model"][step], result["copy_last_frame"][step]
        assert set(model) == {"psnr", "ssim", "sharpness", "psnr_moving", "ssim_moving"}
        assert model["psnr"] == pytest.approx(CAP)
        assert model["ssim"] == pytest.approx(1.0)
        assert model["psnr"] > copy["psnr"] and model["ssim"] > copy["ssim"]
        assert model["psnr_moving"] > copy["psnr_moving"]
        assert copy["psnr_moving"] < copy["psnr"]  # the baseline's errors lie where it moves
        assert 0 < result["moving_fraction"][step] < 0.5
    # the baseline at step 2 is still frame 1: twice the shift, a worse PSNR than at step 1
    assert result["copy_last_frame"]["2"]["psnr"] < result["copy_last_frame"]["1"]["psnr"]
    json.dumps(result, allow_nan=False)


def test_evaluate_prediction_without_motion_gives_none():
    clip = np.stack([toy_clip(moving=False), toy_clip(moving=False)])
    targets = clip[:, 2:]
    noisy = np.clip(targets + np.random.default_rng(6).normal(0, 5, targets.shape), 0, 255)
    result = evaluate_prediction(targets, noisy, clip[:, 1])
    for figures in (*result["model"].values(), *result["copy_last_frame"].values()):
        assert figures["psnr_moving"] is None and figures["ssim_moving"] is None
    assert result["moving_fraction"] == {"1": 0.0, "2": 0.0}
    assert result["copy_last_frame"]["1"]["psnr"] == pytest.approx(CAP)
    assert result["model"]["1"]["psnr"] < CAP
    json.dumps(result, allow_nan=False)


def test_psnr_and_ssim_agree_with_scikit_image_on_known_pairs():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (3, 24, 32)).astype(np.float64)
    noisy = np.clip(frames + rng.normal(0, 12, frames.shape), 0, 255)
    ours_psnr, ours_ssim = psnr(frames, noisy, 255.0), ssim(frames, noisy, 255.0)
    for t in range(3):
        assert ours_psnr[t] == pytest.approx(
            peak_signal_noise_ratio(frames[t], noisy[t], data_range=255)
        )
        reference = structural_similarity(frames[t], noisy[t], data_range=255,
                                          gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False)  # fmt: skip
        assert ours_ssim[t] == pytest.approx(reference, abs=1e-6)
