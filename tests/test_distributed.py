"""`train_run` on two machines: two local worker processes under MultiWorkerMirroredStrategy."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from conftest import ROOT, TINY
from toy_families import PREDICTOR

from regularity.data.windows import windows_of_clips

# Each worker: TF_CONFIG is in its environment before TensorFlow is imported; it trains the toy
# next-frame predictor with the same call and prints what it saw, with a checksum of its weights.
WORKER = textwrap.dedent("""
    import hashlib, json, logging, sys
    import keras
    import numpy as np
    import tensorflow as tf
    from toy_families import PREDICTOR
    from regularity.run.pipeline import train_run

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    root, run_dir, epochs, interrupt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()

    class Seen(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs, self.batches, self.losses = [], 0, []
        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(epoch)
        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
        def on_epoch_end(self, epoch, logs=None):
            self.losses.append(float(logs["loss"]))
            if interrupt == "yes":
                raise KeyboardInterrupt("simulated kill of both workers")

    seen = Seen()
    config = PREDICTOR.config(dataset="synthetic", data_root=root, run_dir=run_dir,
                              size=(32, 48), epochs=epochs, window_stride=4, batch_size=4)
    model = train_run(config, strategy=strategy, verbose=0,
                      callbacks=[seen])
    digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "weights": digest,
                      "epochs": seen.epochs, "batches": seen.batches, "losses": seen.losses}))
""")


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_workers(args, tmp_path, env, tag, timeout=150):
    """Start two workers with the same command; return each one's (returncode, stdout, stderr)."""
    hosts = [f"127.0.0.1:{port}" for port in free_ports(2)]
    workers = []
    for index in range(2):
        scratch = tmp_path / f"{tag}_tmp{index}"  # the worker's TMPDIR: its scratch folder's home
        scratch.mkdir()
        tf_config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        worker_env = {
            **env,
            "PYTHONPATH": f"{env['PYTHONPATH']}:{ROOT / 'tests'}",
            "TF_CONFIG": json.dumps(tf_config),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "-1",
            "TMPDIR": str(scratch),
        }
        command = [sys.executable, "-c", WORKER, *map(str, args)]
        pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        workers.append(subprocess.Popen(command, cwd=ROOT, env=worker_env, **pipes))
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=timeout)
            results.append((worker.returncode, out, err))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    for index in range(2):  # each worker's scratch folder is gone
        assert list((tmp_path / f"{tag}_tmp{index}").iterdir()) == []
    return results


def report(result):
    code, out, err = result
    assert code == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def checksum(weights):
    return hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in weights)).hexdigest()


CHIEF_OUTPUTS = {
    "config.json", "normalizer.npz", "checkpoints", "logs", "history.csv", "loss.png",
    "model.keras", "thresholds.json", "metrics.json",
}  # fmt: skip


@pytest.mark.slow
def test_two_workers_train_one_model_in_step(tiny_root, tmp_path, project_env):
    run = tmp_path / "run"
    results = run_workers([tiny_root, run, 1, "no"], tmp_path, project_env, "a")
    chief, other = map(report, results)
    assert chief["replicas"] == other["replicas"] == 2
    # One global batch per step, batch_size windows on each of the 2 replicas.
    n_windows = len(windows_of_clips([TINY.n_frames] * 2, PREDICTOR.config().window, 4, (1,)))
    assert chief["batches"] == other["batches"] == n_windows // (4 * 2)
    # Synchronous training: gradients were all-reduced, so both hold the same weights, and the
    # logged loss is the average over both workers.
    assert chief["weights"] == other["weights"]
    assert chief["losses"] == other["losses"] and np.isfinite(chief["losses"]).all()
    # Only the chief wrote the run folder, and all of it; the other wrote into its scratch.
    assert f"training outputs go to {tmp_path / 'a_tmp1'}/regularity-worker-" in results[1][2]
    assert {p.name for p in run.iterdir()} == CHIEF_OUTPUTS
    assert len(list((run / "logs" / "train").iterdir())) == 1  # one writer's event file
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["epoch_001.keras"]
    assert len((run / "history.csv").read_text().splitlines()) == 2
    assert checksum(keras.saving.load_model(run / "model.keras").get_weights()) == chief["weights"]


@pytest.mark.slow
def test_two_workers_resume_together_from_the_chief_backup(tiny_root, tmp_path, project_env):
    run = tmp_path / "run"
    killed = run_workers([tiny_root, run, 2, "yes"], tmp_path, project_env, "killed")
    assert all(code != 0 and "simulated kill" in err for code, _, err in killed)
    assert (run / "checkpoints" / "backup").is_dir()  # the chief's; the other kept none here
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"backup", "epoch_001.keras"}
    results = run_workers([tiny_root, run, 2, "no"], tmp_path, project_env, "resumed")
    chief, other = map(report, results)
    # Both restored epoch 1's state from the chief's backup and trained only epoch 2.
    assert chief["epochs"] == other["epochs"] == [1]
    assert chief["weights"] == other["weights"]
    rows = (run / "history.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["1", "2"]
    assert not (run / "checkpoints" / "backup").exists()
