"""Each notebook runs top to bottom under papermill with tiny parameters (via the CLI)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from regularity.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def eager_env(project_env, tmp_path_factory):
    """`project_env` for notebooks whose kernels run TensorFlow's steps eagerly.

    On the tests' tiny data tracing the steps costs more than running them (notebook 03: 32 s
    traced, 20 s eager), as in the `eager` fixture; an IPython startup file sets it in each
    kernel. Notebooks 01-02 and 04 stay traced: they are where the autoencoder's bf16 steps
    and OCR-GAN's steps are traced under TensorFlow (the UCSD and multi-scale GANs' are
    compiled under JAX by `test_backends`).
    """
    startup = tmp_path_factory.mktemp("ipython") / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00_eager.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from eager_tensorflow import compile_eagerly\ncompile_eagerly()\n"
    )
    return {**project_env, "IPYTHONDIR": str(startup.parents[1])}


def load_script(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unknown_parameters_are_refused_and_known_ones_go_where_declared():
    run_notebooks = load_script("run_notebooks")
    train, test = run_notebooks.find_notebooks(["01", "02"])
    with pytest.raises(ParameterError, match=r"'misspelt'.*known: .*data_root.*recipe.*size"):
        run_notebooks.split_parameters([train, test], {"misspelt": 1, "run_dir": "r"})
    given = {"size": [32, 48], "run_dir": "r", "write_videos": 1}
    own = run_notebooks.split_parameters([train, test], given)
    assert own[train] == {"size": [32, 48], "run_dir": "r"}
    assert own[test] == {"run_dir": "r", "write_videos": 1}


def test_run_notebooks_refuses_an_unknown_parameter_before_running(tmp_path, project_env):
    command = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "02", "--runs"]
    command += [str(tmp_path / "runs"), "-p", "misspelt", "1"]
    done = subprocess.run(command, capture_output=True, text=True, env=project_env, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "'misspelt'" in done.stderr and "write_videos" in done.stderr
    assert not (tmp_path / "runs").exists()  # nothing ran


@pytest.mark.slow
def test_notebooks_01_and_02_write_a_complete_run(tiny_root, tmp_path, project_env):
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
        "size",
        "[32, 48]",
        "-p",
        "epochs",
        "1",
        "-p",
        "window_stride",
        "6",
        "-p",
        "write_videos",
        "1",
        "-p",
        "settings",
        "{filters: [8, 4, 4, 4, 4, 8]}",  # narrow: the recipe's bf16 and windows are kept
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=project_env)
    assert done.returncode == 0, done.stderr[-3000:]
    run = runs / "tiny"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["dataset"] == "synthetic" and metrics["model"] == "convlstm_ae"
    assert set(metrics["frame_auc"]) == {"micro_minmax", "micro_raw", "macro", "micro_paper"}
    assert all(0 <= v <= 1 for v in metrics["frame_auc"].values())
    assert 0 <= metrics["tpr"] <= 1 and 0 <= metrics["fpr"] <= 1
    assert metrics["config"]["size"] == [32, 48] and "input" not in metrics["config"]  # once
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
    printed = "".join("".join(o.get("text", "")) for o in outputs)
    assert printed.count(" frames over the threshold") == 3 and "report.html" in printed
    assert (run / "report.html").is_file()
    # training again with another size is refused, and writes nothing into the finished run
    kept = {p: p.read_bytes() for p in (run / "notebooks").iterdir()}
    again = [*command[:3], "--name", "tiny", "--runs", str(runs), "-p", "data_root",
             str(tiny_root), "-p", "size", "[32, 32]"]  # fmt: skip
    done = subprocess.run(again, cwd=tmp_path, capture_output=True, text=True, env=project_env)
    assert done.returncode == 2 and "another configuration" in done.stderr, done.stderr[-2000:]
    assert {p: p.read_bytes() for p in (run / "notebooks").iterdir()} == kept


def test_notebooks_are_committed_without_outputs():
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells), notebook.name


@pytest.mark.slow
def test_notebook_00_previews_a_dataset_with_paths_from_the_project_root(
    tiny_root, tmp_path, project_env
):
    # A project of its own, entered from notebooks/ as Jupyter would: "data" and "runs" must
    # still mean the folders at its root.
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'elsewhere'\n")
    (project / "data").symlink_to(tiny_root)
    command = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "00", "--name", "tiny"]
    command += ["-p", "clips", "1", "-p", "fps", "5"]
    done = subprocess.run(
        command, cwd=project / "notebooks", capture_output=True, text=True, env=project_env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (project / "notebooks" / "runs").exists()
    run = project / "runs" / "tiny"
    preview = json.loads((run / "preview" / "preview.json").read_text())
    assert [c["split"] for c in preview["clips"]] == ["train", "test"]
    assert preview["clips"][1]["abnormal_frames"] > 0
    assert Path(preview["root"]).parts[0] == "data"  # portable: from the project root
    for clip in preview["clips"]:  # named from the preview folder
        assert (run / "preview" / clip["sheet"]).is_file() and clip["video"].endswith(".mp4")
        assert Path(clip["video"]).parent == Path(clip["split"])
    executed = json.loads(next((run / "notebooks").glob("00_*.ipynb")).read_text())
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    texts = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "'train_clips': 3" in texts and "'test_clips': 3" in texts  # the summary
    assert any("<video" in "".join(o.get("data", {}).get("text/html", "")) for o in outputs)


@pytest.mark.slow
def test_notebook_03_trains_and_tests_the_gan_with_both_scores(tiny_root, tmp_path, eager_env):
    runs = tmp_path / "runs"
    command = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "03", "--name", "gan"]
    command += ["--runs", str(runs), "-p", "data_root", str(tiny_root), "-p", "size", "[32, 48]"]
    command += ["-p", "epochs", "1", "-p", "window_stride", "6", "-p", "write_videos", "1"]
    command += [
        "-p",
        "settings",
        "{dtype_policy: null, filters: [8, 4, 4, 4, 4, 8], d_filters: [4, 8, 8]}",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=eager_env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "second score alocc: {'frame_auc'" in done.stdout
    run = runs / "gan"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "gan" and metrics["config"]["noise"] == "gaussian"
    assert set(metrics["second_scores"]["alocc"]) == {"frame_auc", "eer"}
    for name in ("model.keras", "scorers/alocc.keras", "loss.png", "roc.png", "scores.csv",
                 "notebooks/03_ucsd_gan.ipynb"):  # fmt: skip
        assert (run / name).is_file(), name
    assert len(list((run / "videos").glob("*.mp4"))) == 1


@pytest.mark.slow
def test_notebooks_05_and_06_predict_and_detect(tiny_root, tmp_path, eager_env):
    from conftest import write_moving_squares

    motion = tmp_path / "motion"
    write_moving_squares(motion)
    runs = tmp_path / "runs"
    script = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py")]
    tiny = ["-p", "epochs", "1", "-p", "max_minutes", "null"]
    seq2seq = [*script, "05", "--name", "seq2seq", "--runs", str(runs), "-p", "data_root",
               str(motion), "-p", "size", "[32, 32]", *tiny, "-p", "settings",
               "{seq2seq_filters: 4}"]  # fmt: skip
    done = subprocess.run(seq2seq, cwd=tmp_path, capture_output=True, text=True, env=eager_env)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((runs / "seq2seq" / "prediction" / "prediction.json").read_text())
    assert set(report["model"]) == {"1", "2"} and report["copy_last_frame"]["1"]["psnr"] > 0

    unet = [*script, "06", "--name", "unet", "--runs", str(runs), "-p", "prediction_data_root",
            str(motion), "-p", "prediction_run_dir", str(runs / "unet_motion"), "-p",
            "prediction_epochs", "1", "-p", "data_root", str(tiny_root), "-p", "size", "[32, 48]",
            *tiny, "-p", "write_videos", "1", "-p", "settings",
            "{filters: [4, 8, 16]}"]  # fmt: skip
    done = subprocess.run(unet, cwd=tmp_path, capture_output=True, text=True, env=eager_env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (runs / "unet_motion" / "prediction" / "prediction.png").is_file()
    metrics = json.loads((runs / "unet" / "metrics.json").read_text())
    assert metrics["model"] == "unet_predictor" and 0 <= metrics["frame_auc"]["macro"] <= 1
    assert len(list((runs / "unet" / "videos").glob("*.mp4"))) == 1


@pytest.mark.slow
def test_notebook_07_trains_the_ablation_and_detects(tiny_root, tmp_path, eager_env):
    from conftest import write_moving_squares

    motion = tmp_path / "motion"
    write_moving_squares(motion)
    runs = tmp_path / "runs"
    command = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "07", "--name", "ms",
               "--runs", str(runs), "-p", "prediction_data_root", str(motion),
               "-p", "prediction_run_dir", str(runs / "ms_motion"), "-p", "prediction_epochs", "1",
               "-p", "data_root", str(tiny_root), "-p", "size", "[32, 48]", "-p", "epochs", "1",
               "-p", "max_minutes", "null", "-p", "write_videos", "1",
               "-p", "settings", "{width: 0.05, patch_size: 16}"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=eager_env)
    assert done.returncode == 0, done.stderr[-3000:]
    for variant in ("l2", "l2_gdl", "l2_gdl_adv"):
        report = json.loads(
            (runs / f"ms_motion_{variant}" / "prediction" / "prediction.json").read_text()
        )
        assert set(report["model"]) == {"1", "2"}
    history = (runs / "ms_motion_l2" / "history.csv").read_text().splitlines()[0].split(",")
    assert "d_loss" not in history and "scale4_intensity" in history  # L2 alone: no adversary
    assert (runs / "ms_motion_ablation.png").is_file()
    metrics = json.loads((runs / "ms" / "metrics.json").read_text())
    assert metrics["model"] == "multiscale_gan" and 0 <= metrics["frame_auc"]["macro"] <= 1
    assert len(list((runs / "ms" / "videos").glob("*.mp4"))) == 1


@pytest.mark.slow
def test_notebook_08_trains_a_movement_matcher_and_answers(tmp_path, eager_env):
    runs = tmp_path / "runs"
    command = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "08", "--name", "mv",
               "--runs", str(runs), "-p", "data_root", str(tmp_path / "data"),
               "-p", "epochs", "2", "-p", "max_minutes", "null", "-p", "tune_trials", "1",
               "-p", "tune_epochs", "1", "-p", "settings",
               "{size: [32, 32], backbone: mobilenetv3, filters: 8, head_epochs: 1,"
               " window: {target: shifted, inputs: 4},"
               " dataset_options: {normal: wave, movements: [wave, jack], frames: 16,"
               " clips_per_movement: 4, holdout: 1}}"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=eager_env)
    assert done.returncode == 0, done.stderr[-3000:]
    run = runs / "mv"
    matching = json.loads((run / "metrics.json").read_text())["matching"]
    assert matching["trained_movement"] == "wave" and set(matching["ssim"]["auc_per_movement"]) == {
        "jack"
    }
    tuning = json.loads((run / "tuning.json").read_text())
    assert len(tuning["trials"]) == 1 and tuning["trials"][0]["val_loss"] > 0
    answers = json.loads((runs / "mv_matched" / "answers.json").read_text())["answers"]
    assert [Path(a["clip"]).parent.name for a in answers] == ["jack", "wave"]
    for name in ("similarity.png", "loss.png", "notebooks/08_movement_matcher.ipynb"):
        assert (run / name).is_file(), name


@pytest.mark.slow
def test_notebook_04_trains_ocr_gan_and_its_ablations(tiny_root, tmp_path, project_env):
    runs = tmp_path / "runs"
    command = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "04", "--name", "ocr",
               "--runs", str(runs), "-p", "data_root", str(tiny_root), "-p", "size", "[16, 24]",
               "-p", "epochs", "1", "-p", "write_videos", "1", "-p", "ablations", "true",
               "-p", "ablation_variants", "[]", "-p", "settings",
               "{filters: [4, 8, 8], d_filters: [4, 8], fusion_filters: 4, batch_size: 2,"
               " window: {target: same, inputs: 8}, window_stride: 8}"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=project_env)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((runs / "ocr" / "metrics.json").read_text())
    assert metrics["model"] == "ocr_gan" and 0 <= metrics["frame_auc"]["macro"] <= 1
    assert metrics["config"]["window"]["inputs"] == 8  # T as asked, never overridden
    # no ablation asked for: the section runs and trains none (each variant's config is
    # checked in tests/test_ocr.py, its training is the pipeline's)
    assert not list(runs.glob("ocr_no_*"))
    for name in (
        "attention.png",
        "frequency_split.png",
        "roc.png",
        "notebooks/04_ocr_gan_video.ipynb",
    ):
        assert (runs / "ocr" / name).is_file(), name
    executed = (runs / "ocr" / "notebooks" / "04_ocr_gan_video.ipynb").read_text()
    assert "| full |" in executed and "frame AUC (minmax" in executed  # the ablation table
    assert len(list((runs / "ocr" / "videos").glob("*.mp4"))) == 1
