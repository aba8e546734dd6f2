"""Run folders and paths that mean the same from the project root and from notebooks/."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from regularity.run.files import project_path, project_root

ROOT = Path(__file__).resolve().parents[1]


def test_relative_paths_resolve_against_the_project_root_from_a_subfolder(tmp_path, monkeypatch):
    (tmp_path / "project" / "notebooks").mkdir(parents=True)
    (tmp_path / "project" / "pyproject.toml").write_text("[project]\n")
    monkeypatch.chdir(tmp_path / "project" / "notebooks")  # where Jupyter starts a notebook
    assert project_root() == tmp_path / "project"
    assert project_path("data") == tmp_path / "project" / "data"
    assert project_path("runs/demo") == tmp_path / "project" / "runs" / "demo"
    assert project_path(tmp_path / "elsewhere") == tmp_path / "elsewhere"  # absolute: kept


def test_outside_a_project_relative_paths_stay_relative_to_the_working_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    if any((folder / "pyproject.toml").is_file() for folder in (tmp_path, *tmp_path.parents)):
        return  # a pyproject.toml above the temporary folder: nothing to check here
    assert project_path("data") == tmp_path / "data"


def test_a_recipe_resolves_data_and_run_paths_from_the_project_root(monkeypatch):
    from convlstm_ae.autoencoder import AEConfig

    monkeypatch.chdir(ROOT / "notebooks")  # where Jupyter starts a notebook
    config = AEConfig.recipe("synthetic", run_dir="runs/x", data_root=None)
    assert config.run_dir == str(ROOT / "runs" / "x")
    assert config.data_root == str(ROOT / "data")  # the recipe's own "data", from the root
    assert AEConfig.recipe("ped2").data_root == str(ROOT.parent / "shared" / "data")


def test_importing_the_package_quietens_tensorflow_before_keras_loads_it(project_env):
    env = {k: v for k, v in project_env.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = (
        "import os, sys\n"
        "sys.modules['keras'] = None  # importing keras now fails: what ran before it?\n"
        "try:\n    import convlstm_ae\nexcept ImportError:\n    pass\n"
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() in ("2", "3"), done.stderr[-2000:]


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="glibc's arenas: Linux only")
def test_the_package_caps_malloc_arenas_at_the_core_count_unless_the_user_did(monkeypatch):
    import ctypes

    import regularity

    calls = []

    class RecordingLibc:
        def mallopt(self, option: int, value: int) -> int:
            calls.append((option, value))
            return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda name: RecordingLibc())
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    regularity._limit_malloc_arenas()
    assert calls == [(-8, len(os.sched_getaffinity(0)))]  # -8: M_ARENA_MAX in malloc.h
    # glibc reads a cap the user set itself: left alone
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=4")
    regularity._limit_malloc_arenas()
    monkeypatch.delenv("GLIBC_TUNABLES")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    regularity._limit_malloc_arenas()
    assert len(calls) == 1
    # a C library without mallopt (musl): nothing to set, no error
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())
    regularity._limit_malloc_arenas()


def test_the_command_line_keeps_tensorflow_start_up_lines_off_the_console(project_env):
    env = {k: v for k, v in project_env.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "regularity", "families"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0 and "convlstm_ae: " in done.stdout
    assert done.stderr == "", done.stderr[-2000:]  # no CUDA probe, CPU features or absl lines


def test_fetching_and_previewing_data_start_no_deep_learning_framework(
    tiny_root, tmp_path, project_env
):
    (tmp_path / "file").write_text("not a folder")
    script = f"""
import sys
from regularity.cli import main
assert main(["preview", "synthetic", "--root", {str(tiny_root)!r}, "--out", {str(tmp_path)!r}]) == 0
dest = {str(tmp_path / "file" / "sub")!r}
assert main(["fetch", "ped2", "--dest", dest, "--mirror", "http://127.0.0.1:9"]) == 2
print(sorted(m for m in ("tensorflow", "keras", "jax", "torch") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=project_env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "cannot create this folder" in done.stderr


def test_a_moved_clone_reads_its_runs_as_the_same_configuration(tmp_path, monkeypatch):
    import json
    import shutil

    from convlstm_ae.autoencoder import AEConfig
    from regularity.run.config import check_resumable
    from regularity.run.families import load_config

    first = tmp_path / "first" / "clone"
    (first / "notebooks").mkdir(parents=True)
    (first / "pyproject.toml").write_text("[project]\n")
    monkeypatch.chdir(first / "notebooks")
    config = AEConfig.recipe("ped2", run_dir="runs/x")
    config.save()
    stored = json.loads((first / "runs" / "x" / "config.json").read_text())
    assert stored["run_dir"] == "runs/x" and stored["data_root"] == "../shared/data"
    moved = tmp_path / "second" / "clone"
    shutil.copytree(first, moved)
    monkeypatch.chdir(moved)
    again = AEConfig.recipe("ped2", run_dir="runs/x")
    assert load_config(moved / "runs" / "x").identity() == again.identity()
    assert check_resumable(again)  # the same run: it would resume, not be refused
