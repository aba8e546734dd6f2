import shutil

import numpy as np
import pytest
from conftest import TINY, write_avi
from PIL import Image

from regularity.datasets import load_dataset
from regularity.datasets.base import Color
from regularity.datasets.readers import read_image_folder, read_video_file
from regularity.datasets.synthetic import FOLDER, generate_walkway
from regularity.datasets.ucsd import read_frames_layout, read_ucsd_official
from regularity.datasets.videos import read_video_folder
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
