"""Keras' JAX backend: every trainer trains, resumes and stops there, without TensorFlow.

The tests below run other tests of the suite again, in a subprocess whose Keras backend is JAX
and which cannot import TensorFlow (as on the GPU machine): the toy families and one real family
per trainer (adversarial, prediction with a discriminator, multi-scale, two-phase movement).
"""

import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from test_families import config_of
from toy_families import GAN

from regularity.run.evaluation import evaluate_run
from regularity.run.pipeline import train_run

pytest.importorskip("jax")

# In three groups, so that the test workers share them.
ON_JAX = {
    # the toy families: train, kill, resume, evaluate; a NaN stop; one weight average each
    "toy": [
        "tests/test_families.py::test_a_toy_family_runs_through_train_evaluate_and_resume",
        "tests/test_families.py::test_a_nan_in_any_loss_term_stops_with_the_last_good_checkpoint",
        "tests/test_families.py::test_each_network_of_a_two_optimizer_trainer_keeps_its_own_weight_average",
        "tests/test_predictors.py::test_the_adversarial_option_trains_both_networks_and_adds_its_weighted_term",
    ],
    # one real family per trainer (OCR-GAN shares the UCSD GAN's adversarial trainer)
    "adversarial": [
        "tests/test_gan.py::test_a_kill_resumes_to_the_same_state_and_both_scores_reach_the_leaderboard",
    ],
    "prediction": [
        "tests/test_multiscale.py::test_the_family_trains_on_patches_resumes_after_a_kill_and_detects",
        "tests/test_movement.py::test_lower_blocks_stay_frozen_and_the_top_block_trains_in_phase_two",
    ],
}


@pytest.fixture(scope="session")
def jax_env(project_env, tmp_path_factory):
    """The environment of a subprocess with Keras on JAX and TensorFlow unimportable.

    Its XLA programs go to a compilation cache kept by the test worker (one per xdist worker):
    a resumed training compiles the same steps again (the GAN's kill-and-resume test on its
    own: 60 s without the cache, 38 s with it). XLA's CPU backend optimises at level 2, not 3:
    at 3 its LLVM passes spend 0.8 s on each weight shape's random initialiser (threefry), at 2
    0.1 s, and the tiny steps run as fast (without the cache, the GAN's test alone: 52 -> 39 s,
    the multi-scale GAN's 35 -> 23 s; level 0 doubles it: the steps run slowly).
    """
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=2".strip()
    return {
        **project_env,
        "XLA_FLAGS": flags,
        "KERAS_BACKEND": "jax",
        "REGULARITY_WITHOUT_TENSORFLOW": "1",
        "JAX_COMPILATION_CACHE_DIR": str(tmp_path_factory.mktemp("jax_cache")),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


def on_jax(env, *args, timeout=1500):
    """Runs ``python args`` in `jax_env`'s environment ``env``; its output."""
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("group", ON_JAX)
def test_every_trainer_trains_resumes_and_stops_under_jax_without_tensorflow(group, jax_env):
    tests = ON_JAX[group]
    out = on_jax(jax_env, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *tests)
    runs = len(tests) + (group == "toy")  # the toy families' first test runs for both
    assert f"{runs} passed" in out


def scores_of(run_dir):
    with open(run_dir / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r["error"]), float(r["abnormality"])] for r in rows])


@pytest.mark.slow
def test_a_run_trained_under_one_backend_scores_the_same_under_the_other(
    tiny_root, tmp_path, jax_env
):
    # trained under TensorFlow (this process), scored here and under JAX
    config = config_of(GAN, tiny_root, tmp_path / "tf_run", epochs=1)
    train_run(config, verbose=0)
    tf_metrics = evaluate_run(config.run_dir)
    shutil.copytree(tmp_path / "tf_run", tmp_path / "tf_run_on_jax")
    # trained under JAX (the subprocess), scored there and here
    jax_run = config.replace(run_dir=str(tmp_path / "jax_run"))
    script = f"""
import sys; sys.path.insert(0, "tests")
import without_tensorflow; without_tensorflow.block()
import json, toy_families
from regularity.run.evaluation import evaluate_run
from regularity.run.pipeline import train_run
config = toy_families.GanConfig.from_dict({jax_run.to_dict()!r})
train_run(config, verbose=0)
on_jax = [evaluate_run(config.run_dir), evaluate_run({str(tmp_path / "tf_run_on_jax")!r})]
print(json.dumps([m["frame_auc"] for m in on_jax]))
"""
    jax_aucs = json.loads(on_jax(jax_env, "-c", script).strip().splitlines()[-1])
    shutil.copytree(tmp_path / "jax_run", tmp_path / "jax_run_on_tf")
    tf_of_jax = evaluate_run(tmp_path / "jax_run_on_tf")
    for here, there, ours in (
        (tmp_path / "tf_run", tmp_path / "tf_run_on_jax", tf_metrics["frame_auc"]),
        (tmp_path / "jax_run_on_tf", tmp_path / "jax_run", tf_of_jax["frame_auc"]),
    ):
        np.testing.assert_allclose(scores_of(here), scores_of(there), rtol=1e-4, atol=1e-5)
        theirs = jax_aucs[1] if here.name == "tf_run" else jax_aucs[0]
        assert ours == pytest.approx(theirs, abs=1e-3)


@pytest.mark.slow
def test_the_gpu_check_runs_dry_on_the_cpu(tmp_path, jax_env):
    env = {**jax_env, "PYTHON": sys.executable, "FAMILIES": "unet_predictor"}
    env["SCALES"] = "paper"  # the declared scale runs the same steps at the recipe's size
    done = subprocess.run(
        ["bash", "scripts/gpu_check.sh", "--dry-run", str(tmp_path)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    lines = [json.loads(line) for line in (tmp_path / "gpu_check.jsonl").read_text().splitlines()]
    trained, speed = lines
    assert trained["backend"] == speed["backend"] == "jax"
    assert trained["config"]["size"] == [64, 64] and trained["epochs_trained"] == 1
    assert 0 <= trained["frame_auc"]["micro_minmax"] <= 1 and speed["frames_per_second"] > 0
