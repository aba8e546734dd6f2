"""Shared fixtures: tiny datasets built once per run, the real data when it is there."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if os.environ.get("REGULARITY_WITHOUT_TENSORFLOW"):
    from without_tensorflow import block

    block()  # from here on, importing TensorFlow fails
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One thread per worker (and per notebook or script it starts): with as many workers as cores,
    # TensorFlow's own thread pools would only fight over the same cores.
    for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

import cv2
import keras
import numpy as np
import pytest
import scipy.io
from eager_tensorflow import compile_eagerly
from PIL import Image

from regularity.data import WalkwaySpec, generate_walkway

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TINY = WalkwaySpec(seed=3, n_train=3, n_test=3, n_frames=40, height=60, width=90, walkway=(21, 46))


@pytest.fixture
def eager(monkeypatch):
    """Models compiled in the test (the trainers) run their steps eagerly, untraced.

    A network loaded for scoring stays traced: it predicts every clip (`compile_eagerly`).

    On tiny data, tracing a GAN's steps costs more than the few steps it runs (the UCSD GAN's
    kill-and-resume test: 62 s traced, 34 s eager); a long training runs faster traced, so it
    is used per module. The traced paths stay tested: the UCSD and multi-scale GANs' steps
    compiled by XLA under JAX (`test_backends`, where this does nothing), OCR-GAN's traced by
    notebook 04, the autoencoder's (bf16 too) by the tests without this and notebooks 01-02.
    """
    compile_eagerly(monkeypatch.setattr)


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    """A small synthetic walkway in the official UCSD layout."""
    root = tmp_path_factory.mktemp("tiny")
    generate_walkway(root, TINY)
    return root


@pytest.fixture(scope="session")
def project_env() -> dict[str, str]:
    """The environment for scripts run as subprocesses: this checkout's packages come first
    (a script's own folder, not the working directory, is what Python puts on its path)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture(scope="session")
def ped2_root() -> Path:
    folder = SHARED_DATA / "ped2"
    if not (folder / "training" / "frames").is_dir():
        pytest.skip("real Ped2 (../shared/data/ped2) is not here")
    return folder


def write_avi(path: Path, frames: np.ndarray, fps: float = 25.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()


@pytest.fixture(scope="session")
def avenue_root(tmp_path_factory) -> Path:
    """A two-clip Avenue tree: .avi videos and a volLabel .mat per test clip."""
    root = tmp_path_factory.mktemp("avenue") / "Avenue Dataset"
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (12, 32, 48), dtype=np.uint8)
    write_avi(root / "training_videos" / "01.avi", frames)
    write_avi(root / "testing_videos" / "01.avi", frames)
    masks = np.zeros((12, 32, 48), np.uint8)
    masks[4:7, 10:20, 10:20] = 1
    cells = np.empty((1, 12), dtype=object)
    for i, m in enumerate(masks):
        cells[0, i] = m
    (root / "testing_label_mask").mkdir()
    scipy.io.savemat(root / "testing_label_mask" / "1_label.mat", {"volLabel": cells})
    return root


class Interrupt(keras.callbacks.Callback):
    """A simulated kill at the end of one epoch."""

    def __init__(self, after_epoch: int):
        super().__init__()
        self.after_epoch = after_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.after_epoch:
            raise KeyboardInterrupt("simulated kill")


class Epochs(keras.callbacks.Callback):
    """The epochs a training really ran (0-based) and how many batches it took."""

    def __init__(self):
        super().__init__()
        self.seen, self.batches = [], 0

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def write_moving_squares(root, clips=8, frames=24, seed=0):
    """Weizmann-like strips (64x64 frames side by side) of a square sliding at constant speed."""
    size, side = 64, 16
    rng = np.random.default_rng(seed)
    folder = root / "weizmann_strips" / "slide"
    folder.mkdir(parents=True)
    for clip in range(clips):
        x, y = rng.integers(0, size - side, 2)
        vx, vy = rng.choice([-4, -2, 2, 4], 2)
        strip = np.full((size, size * frames, 3), 40, np.uint8)
        for t in range(frames):
            px, py = int(x + vx * t) % (size - side), int(y + vy * t) % (size - side)
            strip[py : py + side, t * size + px : t * size + px + side] = (220, 180, 60)
        Image.fromarray(strip).save(folder / f"{clip:08d}.jpg", quality=95)
