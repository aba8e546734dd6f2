"""The shared layers: the Laplacian split (lap + res is the frame; OpenCV's pyramid inside)."""

import cv2
import numpy as np
import pytest

from gan.ocr.layers import laplacian_split


@pytest.mark.parametrize("shape", [(2, 64, 64, 1), (2, 63, 90, 3), (1, 33, 17, 1)])
def test_lap_plus_res_is_the_frame(shape) -> None:  # noqa: ANN001
    frames = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    lap, res = laplacian_split(frames)
    assert lap.shape == res.shape == shape and lap.dtype == np.float32
    np.testing.assert_allclose(lap + res, frames, rtol=0, atol=1e-4)
    # inside the border it is OpenCV's pyrUp(pyrDown(frame)), in float
    height, width = shape[1:3]
    ref = [cv2.pyrUp(cv2.pyrDown(f.astype(np.float32)), dstsize=(width, height)) for f in frames]
    inner = np.stack(ref).reshape(shape)[:, 3:-3, 3:-3]
    np.testing.assert_allclose(res[:, 3:-3, 3:-3], inner, atol=1e-3)
    assert (lap < 0).any()  # the details a saturating uint8 subtraction would lose


def test_res_holds_the_low_frequencies_and_lap_the_details() -> None:
    y, x = np.mgrid[0:64, 0:64]
    smooth = 128 + 60 * np.sin(x / 10.0)  # a slow ramp: almost all of it in res
    checker = 40.0 * ((x + y) % 2)  # the finest detail: almost all of it in lap
    lap, res = laplacian_split((smooth + checker)[None, ..., None])
    inner = (slice(None), slice(4, -4), slice(4, -4))  # away from the reflected borders
    assert np.abs(res[inner] - (smooth + 20)[None, ..., None][inner]).max() < 2.0
    assert np.abs(lap[inner] - (checker - 20)[None, ..., None][inner]).max() < 2.0
