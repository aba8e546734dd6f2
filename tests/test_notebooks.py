"""Each notebook runs top to bottom under papermill with tiny parameters (via the CLI)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_01_and_02_write_a_complete_run(tiny_root, tmp_path):
    runs = tmp_path / "runs"  # given as a relative path, as a user would
    command = [
        sys.executable,
        str(ROOT / "scripts" / "run_notebooks.py"),
        "01",
        "02",
        "--name",
        "tiny",
        "--runs",
        str(runs),
        "-p",
        "data_root",
        str(tiny_root),
        "-p",
        "height",
        "32",
        "-p",
        "width",
        "48",
        "-p",
        "epochs",
        "1",
        "-p",
        "window_stride",
        "6",
        "-p",
        "write_videos",
        "1",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    run = runs / "tiny"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["dataset"] == "synthetic" and metrics["model"] == "convlstm_ae"
    assert set(metrics["frame_auc"]) == {"micro_minmax", "micro_raw", "macro", "micro_paper"}
    assert all(0 <= v <= 1 for v in metrics["frame_auc"].values())
    assert 0 <= metrics["tpr"] <= 1 and 0 <= metrics["fpr"] <= 1
    assert metrics["config"]["input"]["size"] == [32, 48]
    assert metrics["config"]["score"]["channels"] == "motion"
    assert metrics["config"]["skips"] == [1] and metrics["config"]["pseudo_anomaly_rate"] == 0.2
    assert metrics["score_fps"] > 0 and metrics["train_seconds"] > 0
    for name in (
        "model.keras",
        "history.csv",
        "loss.png",
        "roc.png",
        "scores.csv",
        "config.json",
        "thresholds.json",
        "notebooks/02_convlstm_ae_test.ipynb",
    ):
        assert (run / name).is_file(), name
    assert len(list((run / "videos").glob("*.mp4"))) == 1
    executed = json.loads((run / "notebooks" / "02_convlstm_ae_test.ipynb").read_text())
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    assert any("text/html" in o.get("data", {}) for o in outputs)  # the inline video
