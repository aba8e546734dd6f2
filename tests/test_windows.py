import itertools

import cv2
import numpy as np
import pytest

from regularity.data.clipstore import DiskClips
from regularity.data.preprocess import (
    FLOW_LEVELS,
    InputSpec,
    Normalizer,
    Scaling,
    flow_speeds,
    prepare_frames,
)
from regularity.data.windows import (
    SkipFrameAnomalies,
    Target,
    WindowSpec,
    input_noise,
    window_batches,
    window_indices,
    windows_of_clips,
)
from regularity.score.inference import predict_test_data


def test_window_indices_cover_every_frame_when_asked():
    w = window_indices(23, 10, stride=10, cover_end=True)
    assert w.tolist()[-1] == list(range(13, 23))
    assert set(w.ravel()) == set(range(23))
    assert window_indices(4, 10, cover_end=True).tolist() == [[0, 1, 2, 3] + [3] * 6]
    assert window_indices(10, 3, stride=2, skip=3).tolist() == [[0, 3, 6], [2, 5, 8]]


def test_windows_of_clips_with_temporal_strides():
    idx = windows_of_clips([12, 5], 4, skips=[1, 3])
    # clip 1: 9 windows at skip 1 + 3 at skip 3; clip 2: 2 at skip 1, too short for skip 3
    assert len(idx) == 9 + 3 + 2
    assert idx[9].tolist() == [0, 3, 6, 9]
    assert idx[-1].tolist() == [13, 14, 15, 16]
    with pytest.raises(ValueError, match="long enough"):
        windows_of_clips([3], 4)


def test_window_batches_stream_scaled_windows():
    clips = [np.arange(6 * 4 * 4, dtype=np.uint8).reshape(6, 4, 4, 1) * 0 + i for i in (10, 20)]
    clips[0][:, 0, 0, 0] = np.arange(6)
    ds = window_batches(clips, 3, Normalizer(Scaling.UNIT), batch_size=2, shuffle=False)
    batches = list(ds.epoch(0))
    assert sum(len(x) for x, _ in batches) == 8
    x, y = batches[0]
    assert x.shape == (2, 3, 4, 4, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[1, :, 0, 0, 0], np.array([1, 2, 3]) / 255)
    np.testing.assert_array_equal(x, y)
    next_frame = WindowSpec(Target.NEXT, inputs=2)
    ds = window_batches(clips, next_frame, Normalizer(Scaling.UNIT), batch_size=8, shuffle=False)
    x, y = next(ds.epoch(0))
    assert x.shape == (8, 2, 4, 4, 1) and y.shape == (8, 4, 4, 1)
    np.testing.assert_allclose(y[0, 0, 0, 0], 2 / 255)


def _counting_clips(starts: tuple[int, ...], n: int = 30) -> list[np.ndarray]:
    """Clips whose frame k holds grey level start + k everywhere, with a motion channel."""
    return [
        prepare_frames(
            np.full((n, 2, 2), start, np.uint8) + np.arange(n, dtype=np.uint8)[:, None, None],
            None,
            motion=True,
        )
        for start in starts
    ]


def test_skip_frame_pseudo_anomalies_jump_and_keep_a_normal_target():
    clips = _counting_clips((0, 100))
    every = SkipFrameAnomalies(rate=1.0, jumps=(3,))
    ds = window_batches(
        clips, 4, Normalizer(Scaling.UNIT), 64, shuffle=False, pseudo_anomalies=every, motion=True
    )
    x, y = (np.rint(a * 255).astype(int) for a in next(ds.epoch(0)))
    assert len(x) == 2 * 27
    steps = np.diff(x[..., 0, 0, 0], axis=1)
    assert (steps == 3).all()  # every input jumps 3 frames, within its own clip
    assert (np.diff(y[..., 0, 0, 0], axis=1) == 1).all()  # every target is a normal window
    # inputs and targets start together, moved back only where the jump would leave the clip
    np.testing.assert_array_equal(x[:, 0, 0, 0, 0], y[:, 0, 0, 0, 0])
    assert x[26, 0, 0, 0, 0] == 29 - 9 and x[27, 0, 0, 0, 0] == 100
    # the motion channel shows the jump, |I_t - I_{t-3}|, on every frame: one on its clip's
    # first frame has no predecessor and takes its successor's difference, not a made-up zero
    assert (x[..., 0, 0, 1] == 3).all()
    assert (y[..., 0, 0, 1] == 1).all()


def _sliding_block() -> np.ndarray:
    """A textured block sliding right 1 pixel a frame over a flat background."""
    texture = np.random.default_rng(0).integers(0, 256, (24, 24), np.uint8)
    frames = np.full((12, 64, 96), 128, np.uint8)
    for t in range(12):
        frames[t, 20:44, 20 + t : 44 + t] = texture
    return frames


def test_flow_motion_channels_show_the_speed_and_a_jumping_window_its_own_jump():
    frames = _sliding_block()
    clip = prepare_frames(frames, None, motion="flow")
    assert clip.shape == (12, 64, 96, 2)
    inside = np.s_[:, 26:38, 32:40, 1]  # on the block in every frame
    assert np.median(clip[inside]) == pytest.approx(FLOW_LEVELS, abs=4)  # 1 pixel a frame
    every = SkipFrameAnomalies(rate=1.0, jumps=(3,))
    ds = window_batches(
        [clip], 3, Normalizer(Scaling.UNIT), 64, shuffle=False, pseudo_anomalies=every,
        motion="flow",
    )  # fmt: skip
    x, y = (np.rint(a * 255) for a in next(ds.epoch(0)))
    # inputs jump 3 frames and their flow says so; the normal targets keep 1 pixel a frame
    assert np.median(x[:, :, 26:38, 32:40, 1]) == pytest.approx(3 * FLOW_LEVELS, abs=8)
    assert np.median(y[:, :, 26:38, 32:40, 1]) == pytest.approx(FLOW_LEVELS, abs=4)
    with pytest.raises(ValueError, match="motion must be true, false or one of"):
        prepare_frames(frames, None, motion="optical")
    # one spelling per kind, whatever a user wrote
    assert [InputSpec((64, 96), motion=m).motion for m in ("none", "difference", "flow")] == [
        False, True, "flow",
    ]  # fmt: skip
    assert InputSpec((64, 96), motion="none").channels == 1
    with pytest.raises(ValueError, match="16 pixels or more a side"):
        InputSpec((8, 64), motion="flow")
    with pytest.raises(ValueError, match="16 pixels or more a side"):
        InputSpec((8, 64), motion="both")


def test_the_flow_shared_among_threads_is_each_pair_s_own_and_leaves_opencv_as_it_was():
    frames = _sliding_block()
    frames[5:] = np.roll(frames[5:], 7, axis=1)  # pairs that differ: a mix-up would show
    before, after = frames[:-1], frames[1:]
    opencv_threads = cv2.getNumThreads()
    together = flow_speeds(before, after)
    one_by_one = np.concatenate([flow_speeds(before[i : i + 1], after[i : i + 1])
                                 for i in range(len(after))])  # fmt: skip
    np.testing.assert_array_equal(together, one_by_one)
    assert cv2.getNumThreads() == opencv_threads
    assert flow_speeds(before[:0], after[:0]).shape == (0, 64, 96)
    with pytest.raises(ValueError, match="11 frames to pair with 10"):
        flow_speeds(before, after[1:])


def test_both_motion_kinds_follow_the_frames_and_a_jumping_window_shows_its_jump_in_each():
    frames = _sliding_block()
    clip = prepare_frames(frames, None, motion="both")
    assert InputSpec((64, 96), motion="both").channels == clip.shape[-1] == 3
    # the frame difference's channel, then the flow's, each as its kind alone makes it
    np.testing.assert_array_equal(
        clip[..., 1:2], prepare_frames(frames, None, motion=True)[..., 1:]
    )
    np.testing.assert_array_equal(
        clip[..., 2:], prepare_frames(frames, None, motion="flow")[..., 1:]
    )
    rgb = prepare_frames(np.repeat(frames[..., None], 3, -1), None, color="rgb", motion="both")
    assert InputSpec((64, 96), motion="both", color="rgb").channels == rgb.shape[-1] == 9
    every = SkipFrameAnomalies(rate=1.0, jumps=(3,))
    block = np.s_[:, :, 26:38, 32:40]
    for prepared, colours in ((clip, 1), (rgb, 3)):
        ds = window_batches(
            [prepared], 3, Normalizer(Scaling.UNIT), 64, shuffle=False, pseudo_anomalies=every,
            motion="both",
        )  # fmt: skip
        x, y = (np.rint(a * 255) for a in next(ds.epoch(0)))
        shown, difference, flow = (x[..., i * colours : (i + 1) * colours] for i in range(3))
        # each kind shows the jump: the difference is between the frames shown, 3 apart
        np.testing.assert_array_equal(difference[:, 1:], np.abs(shown[:, 1:] - shown[:, :-1]))
        assert not np.array_equal(difference, y[..., colours : 2 * colours])
        assert np.median(flow[block]) == pytest.approx(3 * FLOW_LEVELS, abs=8)
        assert np.median(y[block][..., 2 * colours :]) == pytest.approx(FLOW_LEVELS, abs=4)


def test_a_predictors_jumping_window_must_still_give_the_normal_next_frame():
    clips = _counting_clips((0, 100))
    half = SkipFrameAnomalies(rate=0.5, jumps=(3, 5))
    kinds = {
        "next": WindowSpec(Target.NEXT, 3),
        "future": WindowSpec(Target.FUTURE, inputs=3, outputs=2),
        "shifted": WindowSpec(Target.SHIFTED, 3),
        "every 2nd frame": WindowSpec(Target.NEXT, 2, skip=2),
    }
    for (name, spec), motion in itertools.product(kinds.items(), (True, False)):
        unit = Normalizer(Scaling.UNIT)
        plain = window_batches(clips, spec, unit, 256, shuffle=False, motion=motion)
        batches = window_batches(
            clips, spec, unit, 256, shuffle=False, pseudo_anomalies=half, motion=motion
        )
        (x, y), (x0, y0) = next(batches.epoch(0)), next(plain.epoch(0))
        y, y0 = (a.reshape(len(a), -1, *a.shape[-3:]) for a in (y, y0))
        frame, target = (np.rint(a * 255).astype(int)[..., 0, 0, 0] for a in (x, y))
        steps = np.diff(frame, axis=1)
        jumping = steps[:, 0] != spec.skip
        assert 0.3 < jumping.mean() < 0.7, name  # about the rate, both kinds of window there
        # a jumping window jumps evenly, 3 or 5 frames; the others are the plain batch's
        assert set(steps[jumping].ravel()) == {3, 5} and (steps.std(1) == 0).all(), name
        np.testing.assert_array_equal(x[~jumping], x0[~jumping], err_msg=name)
        np.testing.assert_array_equal(y[~jumping], y0[~jumping], err_msg=name)
        # the targets are the normal window's from the same start, wherever the input jumps
        first_target = frame[:, 0] + spec.positions()[1][0] * spec.skip
        np.testing.assert_array_equal(target[:, 0], first_target, err_msg=name)
        assert (np.diff(target, axis=1) == spec.skip).all(), name
        # every frame, inputs and targets, stays in its window's own clip
        assert ((frame < 100) == (target[:, :1] < 100)).all() and (frame % 100 <= 29).all()
        if motion:  # |I_t - I_{t-jump}|, the first frame's too (its successor's at a clip start)
            change = np.rint(x * 255).astype(int)[..., 0, 0, 1]
            assert (change[jumping] == steps[jumping, :1]).all(), name
    with pytest.raises(ValueError, match="2 input frames or more"):
        window_batches(clips, WindowSpec(Target.NEXT, 1), Normalizer(), pseudo_anomalies=half)


def test_pseudo_anomaly_rate_zero_leaves_windows_normal_and_bad_settings_are_refused():
    clips = _counting_clips((0,))
    never = SkipFrameAnomalies(rate=0.0)
    ds = window_batches(
        clips, 4, Normalizer(Scaling.UNIT), 64, shuffle=False, pseudo_anomalies=never, motion=True
    )
    x, y = next(ds.epoch(0))
    np.testing.assert_array_equal(x, y)
    # strides trained as normal motion cannot also be pseudo anomalies
    with pytest.raises(ValueError, match="must all be larger"):
        window_batches(clips, 4, Normalizer(), skips=(1, 2, 3), pseudo_anomalies=never)
    with pytest.raises(ValueError, match="2 frames or more"):
        SkipFrameAnomalies(jumps=(1, 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        SkipFrameAnomalies(rate=1.5)


def test_standard_normalizer_uses_per_pixel_statistics():
    a = np.zeros((4, 2, 2, 1), np.uint8)
    a[:, 0, 0, 0] = [0, 100, 200, 100]
    n = Normalizer.fit([a[:2], a[2:]], Scaling.STANDARD)
    assert n.mean[0, 0, 0] == pytest.approx(100)
    assert n.std[0, 0, 0] == pytest.approx(np.std([0, 100, 200, 100]))
    x = n.apply(a.astype(np.float32))
    assert x[2, 0, 0, 0] == pytest.approx(100 / np.std([0, 100, 200, 100]))
    np.testing.assert_array_equal(n.to_uint8(x), a)


def test_normalizer_round_trips_through_a_file(tmp_path):
    a = np.random.default_rng(0).integers(0, 255, (5, 3, 3, 1), dtype=np.uint8)
    n = Normalizer.fit([a], "standard")
    n.save(tmp_path / "n.npz")
    m = Normalizer.load(tmp_path / "n.npz")
    np.testing.assert_allclose(m.apply(a.astype(np.float32)), n.apply(a.astype(np.float32)))
    s = Normalizer("symmetric")
    assert s.apply(np.float32(255)) == 1 and s.apply(np.float32(0)) == -1


def test_prepare_frames_resizes_and_converts():
    rgb = np.zeros((3, 20, 30, 3), np.uint8)
    rgb[..., 0] = 255
    grey = prepare_frames(rgb, (10, 16), "grey")
    assert grey.shape == (3, 10, 16, 1) and grey.dtype == np.uint8
    assert grey[0, 0, 0, 0] == 76  # ITU-R 601 luma of pure red
    assert prepare_frames(grey[..., 0], None, "rgb").shape == (3, 10, 16, 3)


CONTRACTS = [
    WindowSpec(Target.SAME, inputs=4),
    WindowSpec(Target.NEXT, inputs=4),
    WindowSpec(Target.FUTURE, inputs=4, outputs=3),
    WindowSpec(Target.SHIFTED, inputs=9),
    WindowSpec(Target.NEXT, inputs=4, skip=2),
]


class IndexEcho:
    """A 'model' that answers each window with the frame numbers its targets must hold,
    read off the inputs: what a perfect model trained under the contract would output."""

    def __init__(self, spec):
        self.spec = spec

    def predict_on_batch(self, x):
        # it is fed exactly the input frames it was trained on: `inputs` of them, `skip` apart
        assert x.shape[1] == self.spec.inputs, x.shape
        np.testing.assert_array_equal(np.diff(x[:, :, 0, 0, 0], axis=1), self.spec.skip)
        first = x[:, :1]  # frame k holds the value k
        step = self.spec.skip
        _, targets = self.spec.positions()
        return first + step * targets.reshape(1, -1, 1, 1, 1).astype(np.float32)


@pytest.mark.parametrize("spec", CONTRACTS, ids=lambda s: f"{s.target.value}-{s.inputs}-{s.skip}")
def test_training_windows_and_inference_agree_on_frame_indices(spec):
    n = 30
    clip = np.arange(n, dtype=np.uint8)[:, None, None, None]  # frame k holds the value k
    ds = window_batches([clip], spec, Normalizer(Scaling.UNIT), batch_size=64, shuffle=False)
    x, y = (np.rint(a * 255).astype(int) for a in next(ds.epoch(0)))
    assert x.shape[1] == spec.inputs  # the model sees exactly `inputs` frames in training...
    y = y[:, None] if spec.target is Target.NEXT else y
    assert y.shape[1] == spec.outputs
    inputs, targets = spec.split(spec.windows(n))
    np.testing.assert_array_equal(x[..., 0, 0, 0], inputs)
    np.testing.assert_array_equal(y[..., 0, 0, 0], targets)
    # ...and at test time: a model answering each window with its target frames puts every
    # output back on the frame it was trained to produce
    frames = clip.astype(np.float32)
    out, valid = predict_test_data(IndexEcho(spec), frames, spec)
    np.testing.assert_allclose(out[valid, 0, 0, 0], np.flatnonzero(valid))
    first_target = spec.positions()[1][0] * spec.skip
    assert valid.tolist() == [False] * first_target + [True] * (n - first_target)


def test_window_spec_rejects_an_empty_contract():
    with pytest.raises(ValueError, match=">= 1"):
        WindowSpec(Target.FUTURE, inputs=4, outputs=0)
    assert WindowSpec.of({"target": "next", "inputs": 4}).span == 5
    assert WindowSpec.of(10) == WindowSpec(Target.SAME, 10)


def test_a_disk_store_streams_the_same_windows_as_memory(tmp_path):
    clips = _counting_clips((0, 100))
    spec = WindowSpec(Target.NEXT, inputs=3)
    memory = window_batches(clips, spec, Normalizer(Scaling.UNIT), 64, shuffle=False)
    disk = window_batches(
        DiskClips.write(tmp_path, iter(clips)), spec, Normalizer(Scaling.UNIT), 64, shuffle=False
    )
    for (a, b), (c, d) in zip(memory.epoch(0), disk.epoch(0), strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert (tmp_path / "frames.u8").stat().st_size == sum(c.size for c in clips)


def test_a_batch_transform_sees_scaled_pairs_and_changes_inputs_only():
    clips = _counting_clips((0,))

    def noisy(inputs, targets, rng):
        return inputs + np.ones_like(inputs), targets

    ds = window_batches(clips, 4, Normalizer(Scaling.UNIT), 8, shuffle=False, transform=noisy)
    x, y = next(ds.epoch(0))
    np.testing.assert_allclose(x - 1, y, atol=1e-6)


def test_both_data_paths_serve_the_same_batches_for_a_seed():
    from regularity.data.sequence import WindowSequence

    clips = _counting_clips((0, 50), n=20)
    noise = input_noise("gaussian", 0.1)
    batches = window_batches(
        clips, 4, Normalizer(Scaling.UNIT), 3, seed=7, transform=noise,
        pseudo_anomalies=SkipFrameAnomalies(rate=0.5), motion=True,
    )  # fmt: skip
    dataset, sequence = batches.tf_dataset(), WindowSequence(batches)
    assert len(dataset) == len(sequence) == len(batches) == 12  # 34 windows, the last batch short
    epochs = []
    for _ in range(2):  # each pass over either path is the next epoch
        from_tf = list(dataset.as_numpy_iterator())
        from_py = [sequence[i] for i in range(len(sequence))]
        sequence.on_epoch_end()
        for (a, b), (c, d) in zip(from_tf, from_py, strict=True):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)
        epochs.append(np.concatenate([y for _, y in from_tf]))
    # a new order every epoch, each window once; the same seed gives the same batches again
    assert not np.array_equal(epochs[0], epochs[1])
    np.testing.assert_array_equal(np.sort(batches.order(1)), np.arange(34))
    again = window_batches(
        clips, 4, Normalizer(Scaling.UNIT), 3, seed=7, transform=noise,
        pseudo_anomalies=SkipFrameAnomalies(rate=0.5), motion=True,
    )  # fmt: skip
    np.testing.assert_array_equal(again.batch(1, 5)[0], batches.batch(1, 5)[0])
    assert not np.array_equal(batches.batch(0, 5)[0], batches.batch(1, 5)[0])
