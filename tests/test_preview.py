"""Looking at a dataset: `python -m regularity preview`, and what notebook 00 shares with it."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def preview_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "regularity", "preview", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def test_preview_writes_a_sheet_and_a_video_of_a_test_clip(tiny_root, tmp_path, project_env):
    done = preview_cli(project_env, "synthetic", "--root", str(tiny_root), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["test_clips"] == 3
    written = [Path(p) for p in report["written"]]
    assert sorted(p.suffix for p in written) == [".mp4", ".png"]
    assert all(p.is_file() for p in written)


def test_preview_of_a_clip_that_does_not_exist_names_the_clips_that_do(
    tiny_root, tmp_path, project_env
):
    done = preview_cli(
        project_env, "synthetic", "--root", str(tiny_root), "--out", str(tmp_path), "--clip", "5"
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr[-2000:]
    assert "clip 5" in lines[0] and "0-2" in lines[0] and "Test001" in lines[0], lines


def test_preview_of_a_missing_dataset_is_its_message_only(tmp_path, project_env):
    done = preview_cli(project_env, "ped2", "--root", str(tmp_path), "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("error: ") and str(tmp_path) in lines[0]
