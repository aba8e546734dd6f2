from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from regularity.data.windows import Target, WindowSpec
from regularity.score.baselines import (
    DIFFERENCE_PER_CELL,
    FLOW_PER_CELL,
    UNRECORDED_FUSION_WINDOW,
    frame_difference_errors,
    fuse_per_cell,
    fused_with_motion,
    fusion_statistics,
)
from regularity.score.inference import predict_test_data
from regularity.score.marking import spot_irregularity
from regularity.score.metrics import eer, frame_auc, tpr_fpr
from regularity.score.scoring import (
    ScoreSpec,
    cell_means,
    cell_statistics,
    error_maps,
    error_weights,
    fisher_fused,
    frame_errors,
    minmax,
    normal_surprise,
    psnr,
    psnr_abnormality,
    regularity_score,
    top_cell_errors,
)


class Echo:
    """A 'model' that returns its input: reconstruction = input, prediction = last frame."""

    def __init__(self, predict_next=False):
        self.predict_next = predict_next

    def predict_on_batch(self, x):
        return x[:, -1] if self.predict_next else x


class WindowMean:
    """Returns, for every frame of a window, the window's mean: exposes the averaging."""

    def predict_on_batch(self, x):
        return np.broadcast_to(x.mean(axis=1, keepdims=True), x.shape)


def test_every_frame_gets_exactly_one_reconstruction():
    frames = np.arange(23, dtype=np.float32).reshape(23, 1, 1, 1) * np.ones((1, 2, 2, 1))
    out, valid = predict_test_data(Echo(), frames, window=10)
    assert valid.all()
    np.testing.assert_allclose(out, frames)
    out, _ = predict_test_data(WindowMean(), frames, window=10, stride=10)
    # windows [0..9], [10..19], [13..22]: frames 13..19 are covered twice and averaged
    assert out[0, 0, 0, 0] == pytest.approx(4.5)
    assert out[15, 0, 0, 0] == pytest.approx((14.5 + 17.5) / 2)
    assert out[22, 0, 0, 0] == pytest.approx(17.5)
    short = frames[:4]  # shorter than a window: the last frame repeats inside it
    out, valid = predict_test_data(WindowMean(), short, window=10)
    assert valid.all()
    np.testing.assert_allclose(out[:, 0, 0, 0], (0 + 1 + 2 + 3 * 7) / 10)


def test_predictor_outputs_are_aligned_and_first_frames_masked():
    frames = np.arange(8, dtype=np.float32).reshape(8, 1, 1, 1)
    spec = WindowSpec(Target.NEXT, inputs=3)
    out, valid = predict_test_data(Echo(predict_next=True), frames, spec)
    assert valid.tolist() == [False] * 3 + [True] * 5
    np.testing.assert_allclose(out[3:, 0, 0, 0], [2, 3, 4, 5, 6])  # frame t from t-1


def test_error_and_regularity_by_hand():
    frames = np.zeros((3, 2, 2, 1))
    outputs = frames.copy()
    outputs[1, 0, 0] = 2.0
    outputs[2, :, :] = 1.0
    maps = error_maps(frames, outputs)
    e = frame_errors(maps)
    assert e.tolist() == [0.0, 4.0, 4.0]
    assert regularity_score(np.array([1.0, 3.0, 2.0])).tolist() == [1.0, 0.0, 0.5]
    assert frame_errors(maps, "patch_max", patch=1).tolist() == [0.0, 4.0, 1.0]


def test_grey_level_errors_weigh_every_pixel_alike():
    # Standardised input: pixel (0, 0) is quiet in training (std 2), pixel (0, 1) busy (std 40).
    std = np.array([[[2.0, 4.0], [40.0, 8.0]]])  # [H=1, W=2, C=2]: appearance, motion
    frames = np.zeros((1, 1, 2, 2))
    outputs = np.zeros_like(frames)
    outputs[0, 0, 0] = [10 / 2, 0.0]  # a 10-grey-level miss on the quiet pixel
    outputs[0, 0, 1] = [20 / 40, 12 / 8]  # 20 grey levels on the busy one, 12 in its motion
    on_input = error_maps(frames, outputs)
    assert on_input[0].tolist() == [[25.0, 0.25 + 2.25]]  # the quiet pixel dominates
    grey = error_maps(frames, outputs, error_weights((1, 2, 2), std, "grey"))
    assert grey[0].tolist() == [[100.0, 400.0 + 144.0]]
    motion = error_maps(frames, outputs, error_weights((1, 2, 2), std, "grey", "motion"))
    assert motion[0].tolist() == [[0.0, 144.0]]
    appearance = error_weights((1, 2, 2), std, "input", "appearance")
    assert appearance.tolist() == [[[1.0, 0.0], [1.0, 0.0]]]
    with pytest.raises(ValueError, match="motion input"):
        error_weights((4, 4, 1), 1.0, "grey", "motion")


def test_each_motion_kind_of_a_two_kind_input_is_scored_on_its_own_channels():
    rgb_both = (1, 1, 9)  # RGB appearance, then the difference's three, then the flow's three
    assert (
        error_weights(rgb_both, 1.0, "input", "flow", "both").ravel().tolist() == [0] * 6 + [1] * 3
    )
    difference = error_weights(rgb_both, 1.0, "input", "difference", "both").ravel()
    assert difference.tolist() == [0] * 3 + [1] * 3 + [0] * 3
    motion = error_weights(rgb_both, 1.0, "input", "motion", "both").ravel()
    assert motion.tolist() == [0] * 3 + [1] * 6
    # a kind the input does not have is refused by name, not scored as zero
    with pytest.raises(ValueError, match="this input's channels are 'appearance', 'difference'"):
        error_weights((1, 1, 2), 1.0, "input", "flow", True)
    with pytest.raises(ValueError, match="motion input"):
        error_weights((1, 1, 2), 1.0, "input", "difference", False)


class TwoReplicas(Echo):
    """Echo that, like a model under a two-replica strategy, needs even batches."""

    class distribute_strategy:  # noqa: N801 - mirrors the attribute Keras models carry
        num_replicas_in_sync = 2

    def predict_on_batch(self, x):
        assert len(x) % 2 == 0, len(x)
        return x


def test_short_last_batch_is_padded_only_to_whole_replicas():
    frames = np.arange(50, dtype=np.float32).reshape(50, 1, 1, 1)  # 5 windows of 10
    out, valid = predict_test_data(TwoReplicas(), frames, window=10, batch_size=4)
    assert valid.all()
    np.testing.assert_allclose(out, frames)


def test_psnr_matches_scikit_image():
    from skimage.metrics import peak_signal_noise_ratio

    rng = np.random.default_rng(0)
    a, b = rng.random((2, 16, 16)), rng.random((2, 16, 16))
    expected = [peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(psnr(a, b, peak=1.0), expected)


def test_frame_difference_baseline_sees_motion():
    frames = np.zeros((20, 8, 8), np.uint8)
    frames[10] = 255
    d = frame_difference_errors(frames, window=1)
    assert d[10] == 255 and d[11] == 255 and d[5] == 0


def brute_force_eer(labels, scores):
    best = None
    for t in np.unique(np.r_[scores, np.inf]):
        tpr, fpr = tpr_fpr(labels, scores, t - 1e-12)
        gap = abs(fpr - (1 - tpr))
        if best is None or gap < best[0]:
            best = (gap, fpr)
    return best[1]


def test_eer_and_auc_against_references():
    rng = np.random.default_rng(1)
    labels = rng.random(400) < 0.4
    scores = labels * 0.8 + rng.normal(0, 0.6, 400)
    assert eer(labels, scores) == pytest.approx(brute_force_eer(labels, scores), abs=0.01)
    fpr, tpr, _ = roc_curve(labels, scores)
    assert fpr.min() <= eer(labels, scores) <= fpr.max()
    assert eer(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0
    perfect = frame_auc([np.array([0.0, 1.0])], [np.array([False, True])])
    assert perfect == {"micro_minmax": 1.0, "micro_raw": 1.0, "macro": 1.0, "micro_paper": 1.0}
    # per-video min-max changes the pooled ranking: checked against scikit-learn directly
    s = [np.array([5.0, 6.0, 7.0]), np.array([0.0, 0.5, 1.0])]
    y = [np.array([0, 1, 1]), np.array([0, 0, 1])]
    got = frame_auc(s, y)
    assert got["micro_raw"] == pytest.approx(roc_auc_score(np.r_[y[0], y[1]], np.r_[s[0], s[1]]))
    assert got["micro_minmax"] == pytest.approx(
        roc_auc_score(np.r_[y[0], y[1]], [0, 0.5, 1, 0, 0.5, 1])
    )
    assert got["macro"] == 1.0
    # the paper's (e - min) / max keeps each video's spread relative to its level
    assert got["micro_paper"] == pytest.approx(
        roc_auc_score(np.r_[y[0], y[1]], [0, 1 / 7, 2 / 7, 0, 0.5, 1])
    )
    assert frame_auc([np.array([-1.0, 1.0])], [np.array([0, 1])])["micro_paper"] is None


def test_red_dots_land_inside_a_planted_difference_and_nowhere_else():
    rng = np.random.default_rng(0)
    error = rng.random((64, 96)) * 0.01  # low noise everywhere
    error[20:36, 40:60] = 1.0  # the planted difference, in model pixels
    frame = np.zeros((128, 192), np.uint8)  # original frame at twice the resolution
    threshold = 0.5  # half the planted error: after smoothing, exactly its edge
    marked, dots = spot_irregularity(frame, error, threshold, layout="grid", cell=4)
    assert len(dots) > 4
    inside = (dots[:, 0] >= 40) & (dots[:, 0] < 72) & (dots[:, 1] >= 80) & (dots[:, 1] < 120)
    assert inside.all()
    red = (marked[..., 0] == 255) & (marked[..., 1] == 0)
    rows, cols = np.nonzero(red)
    assert rows.min() >= 36 and rows.max() < 76 and cols.min() >= 76 and cols.max() < 124
    _, dots = spot_irregularity(frame, error, threshold, layout="regions")
    assert len(dots) == 1 and 40 <= dots[0, 0] < 72 and 80 <= dots[0, 1] < 120
    _, none = spot_irregularity(frame, error * 0, threshold)
    assert len(none) == 0


def test_constant_motion_gives_a_constant_baseline_first_frame_included():
    # a bright bar moving one pixel per frame: the same amount of change between every pair
    frames = np.zeros((12, 8, 16), np.uint8)
    for t in range(12):
        frames[t, :, t : t + 3] = 200
    baseline = frame_difference_errors(frames, window=9)
    np.testing.assert_allclose(baseline, baseline[0])
    assert baseline[0] > 0


def test_frames_no_output_covers_take_the_nearest_covered_frames_score():
    from regularity.score.scoring import ScoreSpec, frame_scores

    maps = np.arange(8, dtype=np.float64).reshape(8, 1, 1)
    valid = np.array([False, False, True, False, True, True, False, False])
    errors = frame_scores(maps, valid, ScoreSpec(smooth_window=1))
    assert errors.tolist() == [2, 2, 2, 2, 4, 5, 5, 5]  # never a zero from an uncovered frame


def test_a_window_with_gaps_is_scored_on_every_frame_and_no_target_is_an_input():
    frames = np.arange(30, dtype=np.float32).reshape(30, 1, 1, 1)
    spaced = WindowSpec(Target.SAME, inputs=4, skip=2)
    _, valid = predict_test_data(Echo(), frames, spaced)
    assert valid.all()  # stride 1 at test time: the odd frames are covered too
    short = frames[:4]  # shorter than a 4-in, 1-out window: no honest prediction exists
    _, valid = predict_test_data(Echo(predict_next=True), short, WindowSpec(Target.NEXT, 4))
    assert not valid.any()


def test_the_psnr_measure_gives_liu_et_al_s_anomaly_score():
    from regularity.score.scoring import ScoreSpec, score_outputs

    frames = np.zeros((3, 4, 4, 1), np.float32)
    outputs = frames + np.array([1.0, 4.0, 2.0], np.float32)[:, None, None, None]
    spec = ScoreSpec(measure="psnr", smooth_window=1)
    _, errors = score_outputs(frames, outputs, np.ones(3, bool), 1.0, spec)
    expected = psnr(frames, outputs, peak=255.0)  # grey levels: the normaliser's std is 1 here
    np.testing.assert_allclose(errors, -expected, rtol=1e-6)
    # min-max of -PSNR is 1 - normalised PSNR: the worst prediction is the most abnormal
    np.testing.assert_allclose(minmax(errors), psnr_abnormality(expected), atol=1e-6)
    assert np.argmax(errors) == 1


def test_a_verdict_reads_the_absolute_score_against_the_normal_threshold():
    from regularity.score.verdict import clip_verdict, verdict_line

    thresholds = {"frame": 1.0, "source": "percentile 99 of 3 normal clips"}
    # a calm clip stays regular, however min-max would stretch it
    calm = clip_verdict(np.array([0.2, 0.5, 0.1, 0.9]), thresholds)
    assert calm["verdict"] == "regular" and calm["flagged_frames"] == 0 and calm["spans"] == []
    busy = clip_verdict(np.array([0.2, 1.5, 2.5, 0.1, 1.2, 0.3]), thresholds)
    assert busy["verdict"] == "irregular" and busy["flagged_frames"] == 3
    assert [(s["start"], s["end"], s["peak"]) for s in busy["spans"]] == [(2, 3, 3), (5, 5, 5)]
    assert busy["threshold"] == 1.0 and busy["threshold_source"] == thresholds["source"]
    line = verdict_line({"name": "Test004", **busy})
    assert line.startswith("Test004: IRREGULAR, 3 of 6 frames over the threshold (normal clips: ")
    assert line.endswith(": frames 2-3 (peak 3), 5-5 (peak 5)")
    # normal clips held runs of up to 2 flagged frames: only a longer run makes a clip irregular
    calibrated = {**thresholds, "normal_longest_span": 2}
    assert (
        clip_verdict(np.array([0.2, 1.5, 2.5, 0.1, 1.2, 0.3]), calibrated)["verdict"] == "regular"
    )
    longer = clip_verdict(np.array([0.2, 1.5, 2.5, 1.1, 0.1]), calibrated)
    assert longer["verdict"] == "irregular" and longer["flagged_frames"] == 3


def test_footage_unlike_the_training_footage_is_said():
    from regularity.data.base import Video
    from regularity.score.verdict import clip_footage, footage_of, footage_warnings

    rng = np.random.default_rng(0)
    colour = rng.integers(0, 255, (12, 24, 36, 3), dtype=np.uint8)
    trained = Video("t", "t", lambda: colour, meta={"fps": 10.0})
    thresholds = {"frame": 1.0, "footage": footage_of([clip_footage(trained)]),
                  "normal_scores": {"median": 0.5, "max": 2.0}}  # fmt: skip
    assert thresholds["footage"] == {"sizes": [[24, 36]], "color": True, "fps": [10.0]}
    same = Video("s", "s.avi", lambda: colour, meta={"fps": 10.0})
    assert footage_warnings(same, np.full(12, 0.5), thresholds) == []
    grey = np.repeat(rng.integers(0, 255, (12, 48, 64, 1), dtype=np.uint8), 3, axis=-1)
    other = Video("o", "o.avi", lambda: grey, meta={"fps": 30.0})
    said = " | ".join(footage_warnings(other, np.full(12, 5.0), thresholds))
    assert "48x64, the training footage 24x36" in said and "the clip is grey" in said
    assert "30 frames/s, the training footage 10" in said and "far above the normal" in said
    # an abnormal event raises some frames, not all: no warning for it
    assert footage_warnings(same, np.r_[np.full(6, 0.5), np.full(6, 9.0)], thresholds) == []
    doubled = Video("d", "d.avi", lambda: np.repeat(colour, 2, axis=0), meta={"fps": 10.0})
    assert "every other frame repeats" in footage_warnings(doubled, np.zeros(24), thresholds)[0]
    # e(t) of any sign: minus the PSNR of a predictor, normal frames at -30 dB to -25 dB
    psnr = {"frame": -26.0, "normal_scores": {"median": -30.0, "max": -25.0}}
    assert footage_warnings(same, np.full(12, -28.0), psnr) == []
    # fused views' rarities are bounded: every frame above the highest normal one is far enough
    views = {**thresholds, "views": [{"view": {}, "normal": [0.0, 1.0]}],
             "normal_scores": {"median": 2.0, "max": 10.0}}  # fmt: skip
    assert "far above the normal" in footage_warnings(same, np.full(12, 10.5), views)[0]
    assert footage_warnings(same, np.r_[np.full(6, 2.0), np.full(6, 12.0)], views) == []
    assert "far above the normal" in footage_warnings(same, np.full(12, -15.0), psnr)[0]


def test_frames_no_window_scores_are_never_flagged():
    from regularity.score.verdict import clip_verdict

    # a predictor's first two frames copy the third's e(t): not its own, never flagged
    errors, valid = np.array([5.0, 5.0, 5.0, 0.1, 0.1]), np.array([0, 0, 1, 1, 1], bool)
    verdict = clip_verdict(errors, {"frame": 1.0}, valid)
    assert verdict["flagged_frames"] == 1 and verdict["scored_frames"] == 3
    assert [(s["start"], s["end"]) for s in verdict["spans"]] == [(3, 3)]
    nothing = clip_verdict(errors, {"frame": 1.0}, np.zeros(5, bool))
    assert nothing["verdict"] == "unscored" and nothing["flagged_frames"] == 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"aggregate": "cell_top", "measure": "psnr"}, "needs measure='error'"),
        ({"aggregate": "cell_top", "frame_score": "ocr"}, "no second scorer"),
        ({"aggregate": "cell_top", "top_fraction": 0.0}, "top_fraction must be in"),
        ({"flow_weight": -1.0}, "flow_weight must be 0 or more"),
        ({"flow_weight": 1.0, "flow_rule": "fisher"}, "flow_rule must be one of"),
        ({"views": [{"channels": "appearance"}], "flow_weight": 0.5}, "no flow_weight"),
        ({"views": [{"measure": "psnr"}]}, "a score view is a dict of"),
        ({"views": [{"aggregate": "cell_top", "top_fraction": 2.0}]}, "top_fraction must be"),
    ],
)
def test_a_score_spec_that_cannot_be_computed_is_refused_when_made(settings, message):
    with pytest.raises(ValueError, match=message):
        ScoreSpec(**settings)


def test_per_cell_scores_judge_each_place_against_its_own_normal_motion():
    # a busy cell (always moving) and a quiet one: the same speck is ordinary in the first,
    # irregular in the second
    normal = np.zeros((50, 2, 4))
    normal[:, :, :2] = np.random.default_rng(0).uniform(5, 15, (50, 2, 2))
    normal[:, :, 2:] = np.random.default_rng(1).uniform(0, 1, (50, 2, 2))
    cells = cell_statistics([cell_means(normal, 2)])
    busy, quiet = np.zeros((1, 2, 4)), np.zeros((1, 2, 4))
    busy[0, :, :2], quiet[0, :, 2:] = 12.0, 12.0
    scores = top_cell_errors(cell_means(np.concatenate([busy, quiet]), 2), cells, 0.5)
    assert scores[1] > 10 * scores[0] > 0


def test_a_fused_score_smooths_the_flow_as_its_own_score_on_normal_and_test_clips_alike():
    rng = np.random.default_rng(0)
    kept = [rng.uniform(0, 4, (60, 3, 5)) for _ in range(3)]  # per-cell flow of 3 normal clips
    own = [rng.uniform(0, 1, 60) for _ in range(3)]
    fusions = {w: fusion_statistics(own, kept, 0.5, w) for w in (1, 9)}
    # the flow's normal std shrinks as the window grows: each window has its own statistics
    assert fusions[1]["flow"][1] > 1.5 * fusions[9]["flow"][1]
    assert [fusions[w]["window"] for w in (1, 9)] == [1, 9]
    # a clip is fused with the window its statistics were taken under: the normal clips,
    # fused again, are standardised (mean 0) on each window
    for fusion in fusions.values():
        flow_alone = {**fusion, "own": [0.0, 1.0], "weight": 1.0}
        fused = np.concatenate([fused_with_motion(np.zeros(60), k, flow_alone) for k in kept])
        assert abs(fused.mean()) < 1e-9 and fused.std() == pytest.approx(1.0)
    # statistics derived before the window was recorded were taken over 9 frames
    unrecorded = {k: v for k, v in fusions[9].items() if k != "window"}
    assert UNRECORDED_FUSION_WINDOW == 9
    np.testing.assert_array_equal(
        fused_with_motion(own[0], kept[0], unrecorded),
        fused_with_motion(own[0], kept[0], fusions[9]),
    )


def test_fused_views_weigh_each_score_by_its_rarity_on_normal_frames_not_its_units():
    rng = np.random.default_rng(0)
    # two scores of the same frames in units a thousand times apart, and heavy-tailed
    normal = [np.sort(rng.exponential(1.0, 500)), np.sort(rng.exponential(1000.0, 500))]
    frames = [np.array([0.5, 6.0, 0.5, 1e6]), np.array([6000.0, 500.0, 500.0, 500.0])]
    fused = fisher_fused(frames, normal)
    # rare under either score counts alike, whatever its units ...
    assert fused[0] == pytest.approx(fused[1], rel=0.2) and fused[0] > 2 * fused[2]
    # ... and a spike past every normal frame weighs as the rarest normal rank, not its size
    assert fused[3] - fused[2] == pytest.approx(np.log(501) - normal_surprise(0.5, normal[0]))
    # a plain sum of standardised scores lets that one spike set the clip's whole scale
    standardised = sum((f - n.mean()) / n.std() for f, n in zip(frames, normal, strict=True))
    assert standardised[3] > 1000 * standardised[0] and fused[3] < 3 * fused[0]


def test_the_fused_baseline_reads_both_per_cell_baselines_against_their_own_normal_frames():
    rng = np.random.default_rng(1)
    per_cell = (DIFFERENCE_PER_CELL.name, FLOW_PER_CELL.name)
    normal = {name: [rng.normal(0, scale, 50) for _ in range(3)] for name, scale in
              zip(per_cell, (1.0, 100.0), strict=True)}  # fmt: skip
    # frame 0 ordinary, frame 1 rare by the difference only, frame 2 rare by both
    test = {per_cell[0]: [np.array([0.0, 5.0, 5.0])], per_cell[1]: [np.array([0.0, 0.0, 500.0])]}
    fused_normal, (fused,) = fuse_per_cell(normal, test)
    assert fused[0] < fused[1] < fused[2] and len(fused_normal) == 3
    # a frame past every normal frame by both reads as the rarest normal rank of each, added
    assert fused[2] == pytest.approx(2 * np.log(151))


def test_normal_clips_scored_again_with_their_derived_view_statistics_give_their_threshold():
    from regularity.data.preprocess import Normalizer
    from regularity.run.evaluation import normal_thresholds
    from regularity.score.scoring import score_outputs

    rng = np.random.default_rng(0)
    # grey frames, their difference and their flow: the three channel groups of a "both" input
    clips = [rng.integers(0, 255, (30, 16, 16, 3), dtype=np.uint8) for _ in range(3)]
    views = [
        {"channels": "appearance", "smooth_window": 3},
        {"channels": "difference"},
        {"channels": "flow", "aggregate": "cell_top", "patch": 8, "top_fraction": 0.5},
    ]
    score = ScoreSpec(channels="motion", views=views, frame_percentile=90.0)
    normalizer = Normalizer("unit")
    thresholds = normal_thresholds(WindowMean(), clips, normalizer, score, 4, motion="both")
    derived = thresholds["views"]
    assert [d["view"] for d in derived] == views and "cells" in derived[2]
    scored = replace(score, thresholds=thresholds)
    fused = []
    for clip in clips:  # as a test clip is scored: the evaluation's path, statistics given
        scaled = normalizer.apply(clip.astype(np.float32))
        outputs, valid = predict_test_data(WindowMean(), scaled, 4)
        fused.append(score_outputs(scaled, outputs, valid, normalizer.std, scored, "both")[1])
    every = np.concatenate(fused)
    assert thresholds["frame"] == pytest.approx(np.percentile(every, 90.0))
    # each normal clip's fused e(t) is recorded as a test clip's would be, every frame
    for recorded, own in zip(thresholds["normal_scores"]["clips"], fused, strict=True):
        np.testing.assert_allclose(recorded, own, rtol=1e-6)
    assert thresholds["normal_scores"]["max"] == pytest.approx(every.max())
    # statistics of other views than the spec's are not used: it asks for them again
    changed = replace(score, views=views[:2], thresholds=thresholds)
    with pytest.raises(ValueError, match="derive them again .*score.views="):
        score_outputs(scaled, outputs, valid, normalizer.std, changed, "both")


def test_a_view_naming_channels_the_input_lacks_is_refused_when_the_config_is_made():
    from regularity.run.config import RunConfig

    with pytest.raises(ValueError, match=r"score.views\[1\]: .*channels are 'appearance', 'diff"):
        RunConfig(motion=True, score=ScoreSpec(views=[{"channels": "appearance"},
                                                      {"channels": "flow"}]))  # fmt: skip
