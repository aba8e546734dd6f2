"""Checks against the real UCSD Ped2 in ../shared/data (skipped when it is absent)."""

import numpy as np

from regularity.data import load_dataset
from regularity.data.groundtruth import parse_span_mat, parse_ucsd_m, spans_to_labels


def test_ped2_counts_and_masks(ped2_root):
    data = load_dataset("ped2", root=ped2_root.parent)
    summary = data.summary()
    assert summary["train_clips"] == 16 and summary["train_frames"] == 2550
    assert summary["test_clips"] == 12 and summary["test_frames"] == 2010
    assert summary["abnormal_test_frames"] == 1648
    assert data.test[0].frames.shape == (180, 240, 360)
    for video in data.test:
        np.testing.assert_array_equal(video.masks.any(axis=(1, 2)), video.labels)


def test_ped2_mat_differs_from_the_official_spans_exactly_as_documented(ped2_root):
    official = parse_ucsd_m(ped2_root / "UCSDped2.m")
    shipped = parse_span_mat(ped2_root / "ped2.mat")
    lengths = [180, 180, 150, 180, 150, 180, 180, 180, 120, 150, 180, 180]
    late_start = {3, 5, 8, 9, 10, 11}
    for clip, (a, b, n) in enumerate(zip(official, shipped, lengths, strict=True), start=1):
        la, lb = spans_to_labels(a, n, "m"), spans_to_labels(b, n, "mat")
        if clip in late_start:
            assert a[0][0] == 1 and b[0][0] == 5
            np.testing.assert_array_equal(la[4:], lb[4:])
            assert la[:4].all() and not lb[:4].any()
        else:
            np.testing.assert_array_equal(la, lb)
    total = sum(spans_to_labels(s, n, "mat").sum() for s, n in zip(shipped, lengths, strict=True))
    assert total == 1624
