"""The synthetic movement generator (issue 20, work in progress): deterministic, distinct."""

import numpy as np
import pytest

from regularity.data.figures import MOVEMENTS, movement_clip, write_movement_strips
from regularity.data.strips import read_strips


def test_the_same_seed_gives_the_same_clip_and_another_seed_another():
    first = movement_clip("jack", 8, 64, np.random.default_rng(5))
    again = movement_clip("jack", 8, 64, np.random.default_rng(5))
    other = movement_clip("jack", 8, 64, np.random.default_rng(6))
    assert first.shape == (8, 64, 64) and first.dtype == np.uint8
    assert np.array_equal(first, again) and not np.array_equal(first, other)


@pytest.mark.parametrize("movement", MOVEMENTS)
def test_every_movement_moves(movement):
    clip = movement_clip(movement, 16, 64, np.random.default_rng(0)).astype(np.float32)
    change = np.abs(np.diff(clip, axis=0)).mean()
    noise = 2 * 3 / np.sqrt(np.pi)  # mean |difference| of two independent N(0, 3) noises
    assert change > noise * 1.05, (movement, change)  # more than the sensor noise alone


def test_unknown_movements_are_refused():
    with pytest.raises(ValueError, match="unknown movement 'dance'"):
        movement_clip("dance", 4)


def test_the_strips_read_back_through_the_strip_reader(tmp_path):
    root = write_movement_strips(tmp_path / "figures", clips_per_movement=3, frames=8)
    dataset = read_strips(root, "wave", color="grey", holdout=1)
    assert len(dataset.train) == 2 and len(dataset.test) == len(MOVEMENTS)
    assert dataset.test[0].frames.shape == (8, 64, 64)


def test_load_dataset_writes_the_figures_once_per_spec(tmp_path):
    from regularity.data import load_dataset

    dataset = load_dataset("figures", tmp_path, normal="squat", clips_per_movement=4, frames=8)
    assert len(dataset.train) == 1 and len(dataset.test) == 3 * len(MOVEMENTS)
    assert {v.meta["movement"] for v in dataset.train} == {"squat"}
    written = (tmp_path / "figures" / "squat" / "00000000.png").stat().st_mtime_ns
    load_dataset("figures", tmp_path, normal="jack", clips_per_movement=4, frames=8)
    assert (tmp_path / "figures" / "squat" / "00000000.png").stat().st_mtime_ns == written
    smaller = load_dataset(
        "figures", tmp_path, normal="jack", holdout=1, clips_per_movement=2, frames=8
    )
    # regenerated: no clip of the first spec is left
    assert len(smaller.train) == 1 and len(smaller.test) == len(MOVEMENTS)
