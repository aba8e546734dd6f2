import logging
import shutil

import numpy as np
import pytest
from conftest import SHARED_DATA, TINY, write_avi
from PIL import Image

from regularity.data import load_dataset
from regularity.data.base import Color, Dataset, Video
from regularity.data.readers import (
    list_images,
    read_frame_strip,
    read_image_folder,
    read_video_file,
)
from regularity.data.synthetic import FOLDER, generate_walkway
from regularity.data.ucsd import read_frames_layout, read_ucsd_official
from regularity.data.videos import read_video_folder
from regularity.errors import (
    CorruptFileError,
    FrameSizeError,
    GroundTruthError,
    MissingDataError,
    RegularityError,
    UnknownDatasetError,
)


def test_synthetic_is_read_by_the_ucsd_reader(tiny_root):
    data = read_ucsd_official(tiny_root / FOLDER)
    assert [len(data.train), len(data.test)] == [TINY.n_train, TINY.n_test]
    video = data.test[0]
    assert video.frames.shape == (TINY.n_frames, TINY.height, TINY.width)
    assert video.frames.dtype == np.uint8
    # Labels come from the .m spans, masks from the _gt bitmaps: they must agree exactly.
    np.testing.assert_array_equal(video.labels, video.masks.any(axis=(1, 2)))
    for v in data.test:
        assert 0 < v.labels.sum() < len(v)  # every test clip has normal and abnormal frames
    assert all(v.labels is None and v.masks is None for v in data.train)


def test_synthetic_is_deterministic_and_cached(tmp_path, tiny_root):
    again = generate_walkway(tmp_path, TINY)
    a, b = read_ucsd_official(again), read_ucsd_official(tiny_root / FOLDER)
    np.testing.assert_array_equal(a.test[1].frames, b.test[1].frames)
    np.testing.assert_array_equal(a.train[2].frames, b.train[2].frames)
    stamp = (again / "spec.json").stat().st_mtime_ns
    generate_walkway(tmp_path, TINY)  # same spec: nothing is rewritten
    assert (again / "spec.json").stat().st_mtime_ns == stamp


def test_synthetic_irregular_objects_move_differently(tiny_root):
    # The cyclist (clip 1) must move faster than any walker: that is what makes it irregular.
    video = read_ucsd_official(tiny_root / FOLDER).test[0]
    cols = [np.flatnonzero(m.any(axis=0)).mean() for m in video.masks if m.any()]
    speed = np.abs(np.diff(cols)).mean()
    assert speed > 2.5


def test_load_dataset_by_name(tiny_root):
    data = load_dataset("synthetic", root=tiny_root.parent / "fresh", seed=0)
    assert data.summary()["train_clips"] == 8
    with pytest.raises(UnknownDatasetError, match="unknown dataset 'ped3'"):
        load_dataset("ped3", root=tiny_root)
    with pytest.raises(MissingDataError, match="no UCSD ped2"):
        load_dataset("ped2", root=tiny_root)


def _clip(folder, n=3, size=(8, 10), suffix=".png"):
    folder.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(np.full(size, i * 10, np.uint8)).save(folder / f"{i:03d}{suffix}")
    return folder


def test_frames_layout_with_mat_and_official_ground_truth(tmp_path):
    import scipy.io

    root = tmp_path / "ped9"
    _clip(root / "training" / "frames" / "01", suffix=".jpg")
    _clip(root / "testing" / "frames" / "01", n=6, suffix=".jpg")
    cells = np.empty((1, 1), dtype=object)
    cells[0, 0] = np.array([[2], [4]])
    scipy.io.savemat(root / "ped9.mat", {"gt": cells})
    assert read_frames_layout(root).test[0].labels.tolist() == [0, 1, 1, 1, 0, 0]
    (root / "UCSDped9.m").write_text("TestVideoFile{end+1}.gt_frame = [1:2, 5:6];\n")
    assert read_frames_layout(root).test[0].labels.tolist() == [1, 1, 0, 0, 1, 1]


def test_bad_clip_folders_name_the_file(tmp_path):
    with pytest.raises(MissingDataError, match="does not exist"):
        read_image_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingDataError, match=r"empty.*holds no images"):
        read_image_folder(tmp_path / "empty")
    bad = _clip(tmp_path / "bad")
    (bad / "001.png").write_bytes(b"not an image")
    with pytest.raises(CorruptFileError, match=r"001\.png.*unreadable"):
        read_image_folder(bad)
    cut = _clip(tmp_path / "cut", size=(64, 64), suffix=".jpg")
    data = (cut / "002.jpg").read_bytes()
    (cut / "002.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match=r"002\.jpg.*truncated"):
        read_image_folder(cut)
    mixed = _clip(tmp_path / "mixed")
    Image.fromarray(np.zeros((9, 10), np.uint8)).save(mixed / "002.png")
    with pytest.raises(FrameSizeError, match=r"002\.png.*\(9, 10\)"):
        read_image_folder(mixed)
    assert issubclass(FrameSizeError, RegularityError)


def test_ground_truth_that_does_not_fit_the_clip(tiny_root, tmp_path):
    copy = tmp_path / FOLDER
    shutil.copytree(tiny_root / FOLDER, copy)
    gt = copy / "Test" / f"{FOLDER}.m"
    lines = gt.read_text().splitlines()
    lines[1] = f"TestVideoFile{{end+1}}.gt_frame = [3:{TINY.n_frames + 5}];"
    gt.write_text("\n".join(lines))
    with pytest.raises(GroundTruthError, match=r"UCSDsynthetic\.m.*does not fit"):
        read_ucsd_official(copy)
    gt.write_text("\n".join(lines[:2]))  # fewer clips listed than there are
    with pytest.raises(GroundTruthError, match="lists 1 test clips"):
        read_ucsd_official(copy)


def test_avenue_reader_and_length_checks(avenue_root):
    data = load_dataset("avenue", root=avenue_root.parent)
    video = data.test[0]
    assert video.frames.shape == (12, 32, 48)
    assert video.labels.tolist() == [False] * 4 + [True] * 3 + [False] * 5
    assert video.masks[5, 15, 15] and not video.masks[5, 0, 0]
    short = type(video)(video.name, video.source, video.load_frames, labels=video.labels[:10])
    with pytest.raises(GroundTruthError, match="covers 10 frames but the clip has 12"):
        _ = short.frames


def test_videos_that_do_not_decode(tmp_path):
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"\x00" * 1000)
    with pytest.raises(CorruptFileError, match=r"broken\.avi.*does not decode"):
        read_video_file(broken)
    with pytest.raises(MissingDataError, match="does not exist"):
        read_video_file(tmp_path / "absent.avi")


def test_video_folder_splits_ucf101_by_group(tmp_path):
    frames = np.zeros((5, 16, 16), np.uint8)
    write_avi(tmp_path / "Walk" / "v_Walk_g01_c01.avi", frames, fps=29.97)
    write_avi(tmp_path / "Walk" / "v_Walk_g09_c02.avi", frames)
    data = read_video_folder(tmp_path, Color.RGB)
    assert [v.name for v in data.test] == ["v_Walk_g01_c01"]
    assert [v.name for v in data.train] == ["v_Walk_g09_c02"]
    assert data.test[0].meta["fps"] == pytest.approx(29.97, abs=0.01)
    assert data.test[0].frames.shape == (5, 16, 16, 3)
    lists = tmp_path / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "trainlist01.txt").write_text("Walk/v_Walk_g01_c01.avi 1\r\n")
    (lists / "testlist01.txt").write_text("Walk/v_Walk_g09_c02.avi\r\n")
    data = read_video_folder(tmp_path)
    assert [v.name for v in data.train] == ["v_Walk_g01_c01"]


def _frames(folder, names):
    folder.mkdir(parents=True)
    for name in names:
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / name)
    return folder


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        (["000.jpg", "001.jpg", "003.jpg"], r"002\.jpg"),
        (["001.tif", "003.tif"], r"002\.tif"),
        (
            ["frame001.png", "frame002.png", "frame004.png", "frame006.png"],
            r"frame003\.png, frame005",
        ),
        (["002.png", "003.png"], r"001\.png"),  # the first frame is missing
        ([f"{i}.png" for i in range(12) if i != 9], r"9\.png missing"),
    ],
)
def test_a_gap_in_numbered_frames_names_the_missing_file(tmp_path, names, missing):
    folder = _frames(tmp_path / "Test007", names)
    with pytest.raises(MissingDataError, match=rf"Test007: numbered frames have a gap: {missing}"):
        read_image_folder(folder)


@pytest.mark.parametrize(
    "names",
    [
        ["000.jpg", "001.jpg", "002.jpg"],
        ["001.tif", "002.tif"],
        ["frame001.png", "frame002.png", "frame003.png"],
        ["left.png", "right.png"],  # no numbers: not checked
    ],
)
def test_contiguous_numbered_frames_pass(tmp_path, names):
    assert [p.name for p in list_images(_frames(tmp_path / "clip", names))] == names


def _noise(n=30):
    return np.random.default_rng(0).integers(0, 255, (n, 32, 48), dtype=np.uint8)


def _truncate(path, keep=0.4):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_truncated_video_names_the_file_and_both_counts(tmp_path, caplog):
    intact = tmp_path / "intact.avi"
    write_avi(intact, _noise())
    assert read_video_file(intact).shape == (30, 32, 48)
    cut = tmp_path / "cut.avi"
    write_avi(cut, _noise())
    _truncate(cut)
    pattern = r"cut\.avi: truncated: (\d+) frames decode but the container declares 30"
    with pytest.raises(CorruptFileError, match=pattern):
        read_video_file(cut)
    meta = {}
    with caplog.at_level(logging.WARNING, logger="regularity.data.readers"):
        frames = read_video_file(cut, strict=False, meta=meta)
    assert 0 < len(frames) < 30
    assert meta == {"declared_frames": 30, "missing_frames": 30 - len(frames)}
    assert "cut.avi" in caplog.text and "declares 30" in caplog.text


def test_video_folder_records_a_shortfall_in_meta_when_not_strict(tmp_path):
    path = tmp_path / "v_Walk_g01_c01.avi"
    write_avi(path, _noise())
    _truncate(path)
    with pytest.raises(CorruptFileError, match="declares 30"):
        _ = read_video_folder(tmp_path).test[0].frames
    video = load_dataset("videos", root=tmp_path, strict=False).test[0]
    n = len(video.frames)  # decoding records the shortfall
    assert 0 < n < 30 and video.meta["missing_frames"] == 30 - n


def test_real_ucf101_clips_decode_to_their_declared_length():
    folder = SHARED_DATA / "ucf101"
    if not folder.is_dir():
        pytest.skip("real UCF-101 clips (../shared/data/ucf101) are not here")
    lengths = {p.stem: len(read_video_file(p)) for p in sorted(folder.glob("*.avi"))}
    assert lengths == {
        "v_ApplyEyeMakeup_g01_c01": 164,
        "v_BaseballPitch_g01_c01": 107,
        "v_HeadMassage_g02_c05": 307,
        "v_Shotput_g05_c02": 130,
    }


def _still(shape, labels=None):
    return Video("clip", "clip", lambda: np.zeros(shape, np.uint8), labels=labels)


def test_summary_says_when_frame_sizes_differ():
    same = Dataset("d", "root", [_still((2, 4, 6))], [_still((3, 4, 6), np.ones(3, bool))])
    assert same.summary()["frame_sizes"] == [(4, 6)]
    assert same.summary()["mixed_frame_sizes"] is False
    mixed = Dataset("d", "root", [_still((2, 5, 6, 3))], [_still((3, 4, 6), np.ones(3, bool))])
    summary = mixed.summary()
    assert summary["frame_sizes"] == [(4, 6), (5, 6)] and summary["mixed_frame_sizes"] is True
    assert summary["abnormal_test_frames"] == 3


def _strip_tree(root):
    # Movement m, file k: 2 + k frames of 3 x 4 pixels; frame i is filled with 100*m + 10*k + i.
    for m, movement in enumerate(("walk", "wave")):
        (root / movement).mkdir(parents=True)
        for k in range(3):
            frames = [np.full((3, 4), 100 * m + 10 * k + i, np.uint8) for i in range(2 + k)]
            Image.fromarray(np.hstack(frames)).save(root / movement / f"{8 * k + m:08d}.png")
    return root


def test_frame_strip_is_cut_into_frames(tmp_path):
    root = _strip_tree(tmp_path / "strips")
    frames = read_frame_strip(root / "wave" / "00000017.png", frame_width=4)
    assert frames.shape == (4, 3, 4)
    assert [int(f.min()) for f in frames] == [int(f.max()) for f in frames] == [120, 121, 122, 123]
    assert read_frame_strip(root / "walk" / "00000000.png", 4, Color.RGB).shape == (2, 3, 4, 3)
    with pytest.raises(FrameSizeError, match=r"00000000\.png: strip is 8 px wide.*frame width 3"):
        read_frame_strip(root / "walk" / "00000000.png", frame_width=3)


def test_strips_dataset_splits_by_file(tmp_path):
    root = _strip_tree(tmp_path / "strips")
    data = load_dataset("strips", root=root, normal="walk", holdout=1, frame_width=4, color="grey")
    assert [v.name for v in data.train] == ["walk_00000000", "walk_00000008"]
    assert [v.name for v in data.test] == ["walk_00000016", "wave_00000017"]
    assert not {v.source for v in data.train} & {v.source for v in data.test}
    assert [v.meta["movement"] for v in data.test] == ["walk", "wave"]
    assert all(v.labels is None for v in data.train)
    assert data.test[0].labels.tolist() == [False] * 4
    assert data.test[1].labels.tolist() == [True] * 4
    assert [int(f[0, 0]) for f in data.train[1].frames] == [10, 11, 12]
    assert data.summary()["frame_sizes"] == [(3, 4)]
    chosen = ["walk/00000000.png", "wave/00000001.png"]
    data = load_dataset("strips", root=root, normal="walk", test_files=chosen, frame_width=4)
    assert [v.name for v in data.test] == ["walk_00000000", "wave_00000001"]
    assert data.test[0].frames.shape == (2, 3, 4, 3)  # RGB by default
    with pytest.raises(MissingDataError, match=r"test files not found: walk/nope\.png"):
        load_dataset("strips", root=root, normal="walk", test_files=["walk/nope.png"])
    with pytest.raises(MissingDataError, match=r"walk: every clip is held out"):
        load_dataset("strips", root=root, normal="walk")  # holdout 3 of 3 files
    with pytest.raises(MissingDataError, match=r"run: no such movement; found walk, wave"):
        load_dataset("strips", root=root, normal="run")


def test_real_weizmann_strips():
    root = SHARED_DATA / "weizmann_strips"
    if not root.is_dir():
        pytest.skip("real Weizmann strips (../shared/data/weizmann_strips) are not here")
    clips = {}
    for normal in ("wave1", "wave2", "jack", "bend"):
        data = load_dataset("strips", root=root, normal=normal, color="grey")
        assert (len(data.train), len(data.test)) == (6, 12)
        for video in data.test:
            abnormal = video.meta["movement"] != normal
            assert video.labels.tolist() == [abnormal] * len(video.labels)
        clips.update({v.source: v for v in data.train + data.test})
    assert len(clips) == 36
    shapes = {v.frames.shape[1:] for v in clips.values()}
    lengths = [len(v) for v in clips.values()]
    assert shapes == {(64, 64)} and (min(lengths), max(lengths)) == (51, 146)
