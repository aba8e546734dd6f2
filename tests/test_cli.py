"""The command lines: the benchmark's subcommands, scoring any video, the leaderboard."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from conftest import SHARED_DATA, write_avi
from toy_families import PREDICTOR

from regularity.__main__ import main as regularity_main
from regularity.run import leaderboard as board
from regularity.run.families import Family, register_family
from regularity.run.files import read_json, write_json
from regularity.run.leaderboard import leaderboard
from regularity.score.baselines import MOTION_BASELINES

ROOT = Path(__file__).resolve().parents[1]
TINY_AE = ["--set", "size=[32,48]", "--set", "epochs=1", "--set", "filters=[8,4,4,4,4,8]",
           "--set", "window_stride=6", "--set", "score.patch=8"]  # fmt: skip


def benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def json_line(capsys):
    """The JSON line of what a command printed (an evaluation prints verdicts around it)."""
    lines = capsys.readouterr().out.strip().splitlines()
    return json.loads(next(line for line in reversed(lines) if line.startswith("{")))


@pytest.fixture(scope="module")
def trained_run(tiny_root, tmp_path_factory):
    """One tiny ConvLSTM AE run made by the command line's train subcommand."""
    run = tmp_path_factory.mktemp("bench") / "ae"
    argv = ["train", "convlstm_ae", "--recipe", "synthetic", "--run-dir", str(run), "--videos",
            "1", *TINY_AE, "--set", f"data_root={tiny_root}"]  # fmt: skip
    assert regularity_main(argv) == 0
    return run


def test_train_as_the_program_hands_its_run_to_a_fresh_evaluate(monkeypatch, tmp_path):
    import regularity.run.pipeline as pipeline

    trained, replaced = [], []
    monkeypatch.setattr(pipeline, "train_run", lambda config, **kw: trained.append(kw) or "model")
    monkeypatch.setattr(os, "execv", lambda path, argv: replaced.append(argv))
    run = tmp_path / "-a run"
    argv = ["train", "convlstm_ae", "--run-dir", str(run), "--videos", "3"]
    assert regularity_main(argv, own_process=True) == 0
    assert trained[-1]["thresholds"] is False
    assert replaced == [[sys.executable, "-m", "regularity", "evaluate", "--videos", "3", "--",
                         str(run)]]  # fmt: skip
    # told to train only, it derives the thresholds itself and replaces nothing
    assert regularity_main([*argv, "--no-evaluate"], own_process=True) == 0
    assert trained[-1]["thresholds"] is True and len(replaced) == 1


@pytest.mark.slow
def test_train_tests_in_a_fresh_process_whose_peak_covers_the_training(
    tiny_root, tmp_path, project_env
):
    run = tmp_path / "ae"
    argv = ["train", "convlstm_ae", "--recipe", "synthetic", "--run-dir", str(run), "--videos",
            "0", *TINY_AE, "--set", f"data_root={tiny_root}"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "regularity", *argv],
        env=project_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    said = done.stdout.splitlines()
    assert f"trained {run}" in said and said[-1] == f"report: {run}/report.html"
    assert f"testing in a fresh process: python -m regularity evaluate --videos 0 -- {run}" in said
    # what `evaluate`, the process that replaced the training's, printed: its peak is the
    # command's, training included
    figures = json.loads(next(line for line in reversed(said) if line.startswith("{")))
    assert figures["epochs_trained"] == 1 and 0 <= figures["frame_auc"]["micro_minmax"] <= 1
    assert figures["peak_rss_mb"] >= figures["peak_rss_mb_train"] > 0
    # the thresholds it derived there are the ones this process derives again, and so are
    # the figures
    copy = tmp_path / "thresholds_to_come"
    shutil.copytree(run, copy)
    for derived in ("thresholds.json", "metrics.json", "scores.csv"):
        (copy / derived).unlink()
    assert regularity_main(["evaluate", str(copy), "--videos", "0"]) == 0
    again, before = (read_json(folder / "thresholds.json") for folder in (copy, run))
    assert again.keys() == before.keys()
    assert again["frame"] == pytest.approx(before["frame"], rel=1e-5)
    assert again["pixel"] == pytest.approx(before["pixel"], rel=1e-5)
    assert read_json(copy / "metrics.json")["frame_auc"] == pytest.approx(
        figures["frame_auc"], abs=1e-6
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "nosuch"], "no family 'nosuch' is registered; known: "),
        (["train", "convlstm_ae", "--recipe", "nosuch"], "has no recipe 'nosuch'; known: ped1"),
        (["train", "convlstm_ae", "--set", "epochz=1"], "unknown config fields"),
        (["train", "convlstm_ae", "--set", "epochs=-1"], "must be 1 or more"),
        (["train", "convlstm_ae", "--set", "size=abc"], "bad setting"),
    ],
)
def test_a_wrong_family_recipe_or_setting_is_one_line_not_a_traceback(argv, message, capsys):
    assert regularity_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "size=abc"], "bad setting"),
        (["--set", "epochz=1"], "unknown config fields for AEConfig: ['epochz']"),
        (["--set", "epochs=-1"], "must be 1 or more"),
        (["--recipe", "nosuch"], "has no recipe 'nosuch'"),
    ],
)
def test_the_benchmark_refuses_bad_settings_in_one_line(argv, message, capsys, tmp_path):
    assert benchmark().main(["train", "--run-dir", str(tmp_path / "run"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_the_families_command_lists_every_family_with_its_recipes(capsys):
    assert regularity_main(["families"]) == 0
    out = capsys.readouterr().out
    for name in ("convlstm_ae", "gan", "unet_predictor", "seq2seq_predictor", "multiscale_gan",
                 "ocr_gan", "movement_matcher"):  # fmt: skip
        assert f"{name}: " in out
    assert "recipes: ped1, ped2, synthetic" in out


@pytest.mark.slow
def test_every_benchmark_subcommand_runs_on_tiny_data(trained_run, tiny_root, capsys, tmp_path):
    capsys.readouterr()
    bench = benchmark()
    first = read_json(trained_run / "metrics.json")
    assert first["epochs_trained"] == 1 and first["config"]["size"] == [32, 48]
    stored = read_json(trained_run / "config.json")
    write_json(trained_run / "config.json", {**stored, "versions": {"keras": "as trained"}})
    regularity_main(["evaluate", str(trained_run), "--videos", "0",
                     "--set", "score.aggregate=patch_max"])  # fmt: skip
    rescored = json_line(capsys)
    assert read_json(trained_run / "metrics.json")["config"]["score"]["aggregate"] == "patch_max"
    assert rescored["frame_auc"]["micro_raw"] != first["frame_auc"]["micro_raw"]
    # per cell: each 8-pixel cell of the 32x48 maps judged against its normal statistics
    regularity_main(["evaluate", str(trained_run), "--videos", "0", "--set",
                     "score.aggregate=cell_top", "--set", "score.top_fraction=0.25"])  # fmt: skip
    by_cell = json_line(capsys)
    cells = read_json(trained_run / "thresholds.json")["cells"]
    assert np.array(cells["mean"]).shape == np.array(cells["std"]).shape == (4, 6)
    assert by_cell["frame_auc"]["micro_raw"] != rescored["frame_auc"]["micro_raw"]
    bench.main(["cells", "--run-dir", str(trained_run), "--patches", "8", "--tops", "0.25",
                "--fusion-weights", "1", "--variants", "aggregate=patch_max",
                "--partners", f"{trained_run}:own"])  # fmt: skip
    studied = json_line(capsys)["frame_auc"]
    partner = f"{trained_run}:own"
    fusions = {"own + 1.0 aggregate=patch_max", f"own + 1.0 {partner}",
               f"aggregate=patch_max + 1.0 {partner}"}  # fmt: skip
    alone = {"own", "cell8 top0.25", "aggregate=patch_max", partner, *fusions}
    assert set(studied) == {*alone, *(f"{n} + 1.0 flow" for n in alone), "optical flow per cell"}
    # a partner run's e(t) is its own: the same run as partner reads as the run itself
    assert studied[partner]["all"] == pytest.approx(studied["own"]["all"], abs=2e-3)
    # another way of scoring the same outputs is what the evaluation gave with that setting
    assert studied["aggregate=patch_max"]["all"]["micro_raw"] == pytest.approx(
        rescored["frame_auc"]["micro_raw"], abs=2e-3
    )
    # the run's own score, recomputed by the study, is what the evaluation reported (up to
    # near-tied frames that the last float bits of two separate predictions can swap)
    assert studied["cell8 top0.25"]["all"]["micro_raw"] == pytest.approx(
        by_cell["frame_auc"]["micro_raw"], abs=2e-3
    )
    # fused with the optical flow's per-cell e(t), its statistics from the normal clips too
    regularity_main(["evaluate", str(trained_run), "--videos", "0", "--set", "score.flow_weight=1"])
    fused = json_line(capsys)
    assert set(read_json(trained_run / "thresholds.json")["fusion"]) == {
        "weight", "window", "rule", "flow_cells", "own", "flow", "size"
    }  # fmt: skip
    # a clip of another size than the normal clips: its flow is taken on their grid
    frames = np.random.default_rng(0).integers(0, 255, (24, 50, 70), dtype=np.uint8)
    write_avi(tmp_path / "other_size.avi", frames)
    out = tmp_path / "other_size_scored"
    argv = ["score", str(trained_run), str(tmp_path / "other_size.avi"), "--out", str(out)]
    assert regularity_main([*argv, "--no-videos"]) == 0
    assert read_json(out / "summary.json")["clips"][0]["frames"] == 24
    assert studied["cell8 top0.25 + 1.0 flow"]["all"]["micro_raw"] == pytest.approx(
        fused["frame_auc"]["micro_raw"], abs=2e-3
    )
    # the flow fused with a score is smoothed as that score is, in the evaluation and the study
    regularity_main(["evaluate", str(trained_run), "--videos", "0", "--set",
                     "score.smooth_window=3"])  # fmt: skip
    smoothed = json_line(capsys)["frame_auc"]["micro_raw"]
    bench.main(["cells", "--run-dir", str(trained_run), "--patches", "8", "--tops", "0.25",
                "--fusion-weights", "1", "--variants", "smooth_window=9",
                "aggregate=cell_top,patch=8,top_fraction=0.25",
                "--fuse-with", "flow", "difference"])  # fmt: skip
    studied = json_line(capsys)["frame_auc"]
    # a per-cell variant takes its statistics from its own normal maps, as the cells do
    per_cell = studied["aggregate=cell_top,patch=8,top_fraction=0.25"]["all"]
    assert per_cell == studied["cell8 top0.25"]["all"]
    # the frame difference per cell fused as the flow is, each also alone: as the baselines
    # study scores it (same clips, same grid, its own 15 frames)
    assert {"own + 1.0 difference", "own + 1.0 flow"} <= set(studied)
    kept = {"frame difference per cell", "optical flow per cell"}
    bench.main(["baselines", "--dataset", "synthetic", "--root", str(tiny_root),
                "--smooth-windows", "15"])  # fmt: skip
    alone = json_line(capsys)["frame_auc"]
    for name in kept:
        assert studied[name]["all"] == pytest.approx(alone[f"{name} smooth15"]["all"], abs=1e-9)
    assert smoothed != pytest.approx(fused["frame_auc"]["micro_raw"], abs=2e-3)
    assert studied["own + 1.0 flow"]["all"]["micro_raw"] == pytest.approx(smoothed, abs=2e-3)
    assert studied["smooth_window=9 + 1.0 flow"]["all"]["micro_raw"] == pytest.approx(
        fused["frame_auc"]["micro_raw"], abs=2e-3
    )
    # the same two scores fused by their rarity on the normal frames instead (Fisher's method):
    # each term lies between 0 (below every normal frame) and log(n + 1) (above every one)
    regularity_main(["evaluate", str(trained_run), "--videos", "0", "--set",
                     "score.flow_rule=rarity"])  # fmt: skip
    by_rarity = json_line(capsys)["frame_auc"]
    fusion = read_json(trained_run / "thresholds.json")["fusion"]
    assert fusion["rule"] == "rarity" and len(fusion["own_normal"]) == len(fusion["flow_normal"])
    errors = np.loadtxt(trained_run / "scores.csv", delimiter=",", skiprows=1, usecols=3)
    assert 0 <= errors.min() and errors.max() <= 2 * np.log(len(fusion["own_normal"]) + 1)
    assert errors.max() > np.log(len(fusion["own_normal"]) + 1) / 2  # the test clips stand out
    assert by_rarity != smoothed
    bench.main(["cells", "--run-dir", str(trained_run), "--patches", "8", "--tops", "0.25",
                "--fusion-weights", "1", "--fusion-rule", "rarity"])  # fmt: skip
    assert json_line(capsys)["frame_auc"]["own + 1.0 flow"]["all"]["micro_raw"] == pytest.approx(
        by_rarity["micro_raw"], abs=2e-3
    )
    # a config whose flow fusion is not the one its thresholds were derived for is refused
    config = read_json(trained_run / "config.json")
    write_json(trained_run / "config.json", {**config, "score": {**config["score"],
               "flow_rule": "standardised"}})  # fmt: skip
    assert regularity_main([*argv, "--no-videos"]) != 0
    assert "derive them again" in capsys.readouterr().err
    write_json(trained_run / "config.json", config)
    # views of the same outputs fused by Fisher's method, each read against its own normal frames
    # (fields over the run's score, which is per cell by now: the first two summed instead)
    views = ["channels=appearance,aggregate=sum", "channels=motion,aggregate=sum",
             "channels=motion,aggregate=cell_top,patch=8,top_fraction=0.25"]  # fmt: skip
    as_yaml = "[{channels: appearance, aggregate: sum}, {channels: motion, aggregate: sum}, " \
        "{channels: motion, aggregate: cell_top, patch: 8, top_fraction: 0.25}]"  # fmt: skip
    regularity_main(["evaluate", str(trained_run), "--videos", "0", "--set", "score.flow_weight=0",
                     "--set", "score.flow_rule=standardised",
                     "--set", f"score.views={as_yaml}"])  # fmt: skip
    by_views = json_line(capsys)["frame_auc"]
    derived = read_json(trained_run / "thresholds.json")["views"]
    assert [sorted(v) for v in derived] == [["normal", "view"]] * 2 + [["cells", "normal", "view"]]
    assert [d["view"]["channels"] for d in derived] == ["appearance", "motion", "motion"]
    bench.main(["cells", "--run-dir", str(trained_run), "--patches", "8", "--tops", "0.25",
                "--fusion-weights", "1", "--variants", *views,
                "--fisher", "+".join(views)])  # fmt: skip
    studied = json_line(capsys)["frame_auc"]
    for name in (f"fisher({' + '.join(views)})", "own"):  # the study's fusion is the evaluation's
        assert studied[name]["all"]["micro_raw"] == pytest.approx(by_views["micro_raw"], abs=2e-3)
    assert studied["own"]["all"] != studied[views[0]]["all"]
    bench.main(["baselines", "--dataset", "synthetic", "--root", str(tiny_root), "--patches",
                "8", "--tops", "0.1"])  # fmt: skip
    assert set(json_line(capsys)["frame_auc"]) == {
        "frame difference", "optical flow", "difference cell8 top0.1", "flow cell8 top0.1"
    }  # fmt: skip
    bench.main(["baselines", "--dataset", "synthetic", "--root", str(tiny_root),
                "--smooth-windows", "1", "9"])  # fmt: skip
    by_window = json_line(capsys)["frame_auc"]
    assert set(by_window) == {f"{b.name} smooth{w}" for b in MOTION_BASELINES for w in (1, 9)}
    assert by_window["frame difference smooth1"] != by_window["frame difference smooth9"]
    assert (
        bench.main(["train", "--run-dir", str(trained_run), "--evaluate-only", "--set", "seed=3"])
        == 2
    )
    assert "may change, not its training fields ['seed']" in capsys.readouterr().err
    assert read_json(trained_run / "config.json")["versions"] == {"keras": "as trained"}
    bench.main(["curve", "--run-dir", str(trained_run)])
    curve = json_line(capsys)["curve"]
    assert [c["epoch"] for c in curve] == [1] and set(curve[0]["frame_auc"]) == {
        "patch_max",
        "sum",
        "psnr",
    }
    bench.main(["scoring", "--run-dir", str(trained_run), "--smooth-windows", "1", "9"])
    assert set(json_line(capsys)["frame_auc"]) == {"smooth_1", "smooth_9"}
    bench.main(["speed", "--run-dir", str(trained_run), "--frames", "24", "--clips", "1"])
    assert json_line(capsys)["frames_per_second"] > 0
    bench.main(["data", "--dataset", "synthetic", "--root", str(tiny_root), "--size", "32"])
    memory = json_line(capsys)
    bench.main(["data", "--dataset", "synthetic", "--root", str(tiny_root), "--size", "32",
                "--cache", str(tmp_path / "cache")])  # fmt: skip
    disk = json_line(capsys)
    assert disk["epoch_windows"] == memory["epoch_windows"] > 0 and disk["store"] == "disk"
    assert set(memory["data_paths"]) == {"numpy", "pydataset", "tf.data"}
    assert all(path["windows_per_second"] > 0 for path in memory["data_paths"].values())
    board = ["leaderboard", "--dataset", "synthetic", "--data-root", str(tiny_root),
             "--runs", str(tmp_path), "--out", str(tmp_path / "board")]  # fmt: skip
    # no declared run trained there: refused, nothing written (never an empty table)
    assert regularity_main(board) == 2
    assert "nothing to rank" in capsys.readouterr().err and not (tmp_path / "board").exists()


@pytest.mark.slow
def test_benchmark_prediction_trains_a_predictor_and_reports_it_against_copy_last(
    tiny_root, capsys, tmp_path
):
    run = tmp_path / "unet"
    argv = ["prediction", "--recipe", "synthetic", "--run-dir", str(run), "--set", "epochs=1",
            "--set", f"data_root={tiny_root}", "--set", "size=[32,48]", "--set", "filters=[4,8]",
            "--set", "window_stride=4"]  # fmt: skip
    capsys.readouterr()
    assert benchmark().main(argv) == 0
    report = json_line(capsys)
    assert report["family"] == "unet_predictor" and report["epochs_trained"] == 1
    assert set(report["model"]) == set(report["copy_last_frame"]) == {"1", "2"}
    assert (run / "prediction" / "prediction.json").is_file()


@pytest.mark.slow
def test_score_any_video_writes_beside_the_run_and_keeps_its_results(trained_run, tmp_path):
    before = {p: (trained_run / p).read_bytes() for p in ("scores.csv", "metrics.json", "roc.png")}
    frames = np.random.default_rng(0).integers(0, 255, (24, 60, 90), dtype=np.uint8)
    write_avi(tmp_path / "clip.avi", frames)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(frames[:15]):
        import cv2

        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    videos = [tmp_path / "clip.avi", folder]
    real = sorted((SHARED_DATA / "ucf101").glob("*.avi"))[:1]  # real UCF-101 when it is here
    assert regularity_main(["score", str(trained_run), *map(str, videos + real)]) == 0
    out = trained_run.with_name(f"{trained_run.name}_scored")
    assert sorted(p.name for p in (out / "videos").glob("*.mp4")) == sorted(
        [f"{v.stem}.mp4" for v in videos + real]
    )
    assert len(list((out / "graphs").glob("*.png"))) == len(videos) + len(real)
    rows = (out / "scores.csv").read_text().splitlines()
    assert rows[0] == "video,frame,label,error,abnormality,regularity,baseline"
    assert rows[1].split(",")[2] == ""  # no labels: no made-up ones
    summary = json.loads((out / "summary.json").read_text())
    assert summary["score_fps"] > 0 and not (out / "roc.png").exists()
    assert "frame_auc" not in summary
    # a verdict per clip, on the run's absolute e(t) against its normal-clip threshold
    threshold = read_json(trained_run / "thresholds.json")
    assert summary["threshold"]["value"] == threshold["frame"] and summary["threshold"]["source"]
    errors = {}
    for row in rows[1:]:
        video, _, _, error, *_ = row.split(",")
        errors.setdefault(video, []).append(float(error))
    for clip in summary["clips"]:
        # scores.csv rounds e(t) to 6 digits: frames that close to the threshold are not judged
        clear = [e for e in errors[clip["name"]] if abs(e / threshold["frame"] - 1) > 1e-5]
        over = sum(e > threshold["frame"] for e in clear)
        near = len(errors[clip["name"]]) - len(clear)
        assert clip["frames"] == len(errors[clip["name"]])
        assert over <= clip["flagged_frames"] <= over + near
        lengths = [s["end"] - s["start"] + 1 for s in clip["spans"]]
        assert sum(lengths) == clip["flagged_frames"]
        # irregular: a run of flagged frames longer than any normal clip's
        longest = max(lengths, default=0)
        assert clip["normal_longest_span"] == threshold["normal_longest_span"]
        assert clip["verdict"] == (
            "irregular" if longest > clip["normal_longest_span"] else "regular"
        )
    page = (out / "report.html").read_text()
    for clip in summary["clips"]:
        assert (
            f'src="graphs/{clip["name"]}.png"' in page
            and f'src="videos/{clip["name"]}.mp4"' in page
        )
    after = {p: (trained_run / p).read_bytes() for p in before}
    assert after == before  # the run's own test results are untouched
    assert regularity_main(["score", str(trained_run), str(tmp_path / "missing.avi")]) == 2


def test_bad_scoring_inputs_are_one_line_and_leave_nothing(
    trained_run, tmp_path, capsys, monkeypatch
):
    from regularity.run import evaluation
    from regularity.run.evaluation import score_any
    from regularity.run.families import load_config

    frames = np.random.default_rng(1).integers(0, 255, (24, 60, 90), dtype=np.uint8)
    write_avi(tmp_path / "a" / "01.avi", frames)
    write_avi(tmp_path / "b" / "01.avi", frames[::-1])
    write_avi(tmp_path / "short.avi", frames[:5])
    out = tmp_path / "scored"

    def refused(*argv):
        capsys.readouterr()
        status = regularity_main(["score", str(trained_run), *map(str, argv)])
        err = capsys.readouterr().err
        assert status == 2 and err.startswith("error: ") and "Traceback" not in err, err
        return err

    needed = load_config(trained_run).window.frames_needed
    err = refused(tmp_path / "a" / "01.avi", tmp_path / "short.avi", "--out", out)
    assert "short.avi" in err and f"5 frames, fewer than the {needed}" in err
    assert not out.exists() and not list(tmp_path.glob(".scored*"))  # nothing written
    assert "never into it" in refused(tmp_path / "a" / "01.avi", "--out", trained_run)
    assert "never into it" in refused(tmp_path / "a" / "01.avi", "--out", trained_run / "x")
    assert "not an earlier scoring" in refused(tmp_path / "a" / "01.avi", "--out", tmp_path)
    (tmp_path / "file").write_text("")
    assert "is a file" in refused(tmp_path / "a" / "01.avi", "--out", tmp_path / "file")
    # two inputs with one stem: each keeps its own graph, video and rows
    both = [tmp_path / "a" / "01.avi", tmp_path / "b" / "01.avi"]
    assert regularity_main(["score", str(trained_run), *map(str, both), "--out", str(out)]) == 0
    names = [c["name"] for c in read_json(out / "summary.json")["clips"]]
    assert names == ["a_01", "b_01"]
    assert sorted(p.stem for p in (out / "videos").glob("*.mp4")) == names
    rows = (out / "scores.csv").read_text().splitlines()[1:]
    assert (
        sum(r.startswith("a_01,") for r in rows) == sum(r.startswith("b_01,") for r in rows) == 24
    )
    # a scoring that fails partway leaves the earlier one as it was, and no half folder
    kept = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with monkeypatch.context() as patch:
        patch.setattr(evaluation, "generate_video", broken_writer)
        with pytest.raises(OSError, match="disk full"):
            score_any(trained_run, [both[0]], out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == kept
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    # scoring again into the same folder: one scoring, the earlier clips' files gone
    assert regularity_main(["score", str(trained_run), str(both[0]), "--out", str(out)]) == 0
    assert [p.stem for p in (out / "graphs").glob("*.png")] == ["01"]
    assert [c["name"] for c in read_json(out / "summary.json")["clips"]] == ["01"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def broken_writer(*args, **kwargs):
    raise OSError("disk full")


@pytest.mark.slow
def test_leaderboard_puts_every_family_beside_the_frame_difference(
    tiny_root, tmp_path, monkeypatch
):
    @dataclass
    class BoardConfig(PREDICTOR.config):
        recipes: ClassVar[dict] = {
            "synthetic": {"dataset": "synthetic", "size": (32, 48), "epochs": 1, "window_stride": 6}
        }
        model: str = "toy_board"

    register_family(Family("toy_board", BoardConfig, PREDICTOR.build, "toy predictor"))
    entries = leaderboard("synthetic", tmp_path / "board", tmp_path / "runs", str(tiny_root),
                          train=True, only=["toy_board"])  # fmt: skip
    names = (
        "frame difference",
        "frame difference per cell",
        "optical flow",
        "optical flow per cell",
        "motion per cell, fused",
    )
    baselines = {f"{name} (no learning)" for name in names}
    assert {e["entry"] for e in entries[:5]} == baselines
    assert [e["entry"] for e in entries[5:]] == ["toy_board (toy predictor)"]
    strength = [e["frame_auc"]["micro_minmax"] for e in entries[:5]]
    assert strength == sorted(strength, reverse=True)  # the strongest baseline first
    listed = leaderboard("synthetic", tmp_path / "listed", tmp_path / "runs", str(tiny_root),
                         only=["toy_board", "convlstm_ae"])  # fmt: skip
    assert "not trained" in listed[-1]["entry"]  # listed last, not silently dropped
    page = (tmp_path / "board" / "leaderboard_synthetic.md").read_text()
    table = [line for line in page.splitlines() if line.startswith("|")]
    assert page.startswith("# Leaderboard: synthetic") and f"Generated {date.today()}" in page
    assert len(table) == 8 and "frame AUC" in table[0] and table[-1].startswith("| toy_board")
    assert "Column key" in page and "- **EER**:" in page
    assert entries == read_json(tmp_path / "board" / "leaderboard_synthetic.json")["entries"]
    baseline, model = entries[0], entries[-1]
    assert 0 < baseline["frame_auc"]["micro_minmax"] <= 1 and 0 <= baseline["fpr"] <= 1
    assert model["frame_auc"]["micro_minmax"] is not None and model["score_fps"] > 0
    assert (tmp_path / "board" / "leaderboard_synthetic_roc.png").stat().st_size > 1000
    text = (tmp_path / "board" / "leaderboard_synthetic.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in strict JSON"))
    shutil.rmtree(tmp_path / "runs")
    # a run not here keeps its row of the earlier leaderboard, marked with that date
    drawn = {}
    monkeypatch.setattr(board, "plot_roc", lambda curves, path: drawn.update(curves))
    again = leaderboard("synthetic", tmp_path / "board", tmp_path / "runs", str(tiny_root),
                        only=["toy_board"])  # fmt: skip
    assert again[-1]["entry"] == f"toy_board (toy predictor) [carried from {date.today()}]"
    assert again[-1]["frame_auc"] == model["frame_auc"]
    # with its ROC curve, which the plot draws again
    assert again[-1]["roc"] == model["roc"] == drawn["toy_board"]
    assert model["roc"]["auc"] == pytest.approx(model["frame_auc"]["micro_minmax"])
    fpr, tpr = np.array(model["roc"]["fpr"]), np.array(model["roc"]["tpr"])
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)


def test_json_the_suite_writes_is_strict(tmp_path):
    from regularity.run.files import update_metrics, write_json

    write_json(tmp_path / "a.json", {"auc": float("nan"), "x": np.float32(np.inf), "n": [1.5]})
    text = (tmp_path / "a.json").read_text()
    assert json.loads(text) == {"auc": None, "x": None, "n": [1.5]}
    assert update_metrics(tmp_path, eer=np.float64("nan"))["eer"] is None


def open_in_chromium(page: Path, screenshot: Path) -> dict:
    """Load a page from the file system in headless Chromium: console errors, failed requests,
    and whether each image and video resolved; a full-page screenshot is written."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    seen = {"errors": [], "failed": []}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda error: seen["errors"].append(str(error)))
        tab.on("requestfailed", lambda request: seen["failed"].append(request.url))
        tab.goto(page.as_uri(), wait_until="load")
        tab.wait_for_function(
            "[...document.querySelectorAll('video')].every(v => v.readyState >= 1 || v.error)",
            timeout=20_000,
        )
        seen["images"] = tab.evaluate(
            "[...document.images].map(i => [i.getAttribute('src'), i.naturalWidth > 0])"
        )
        seen["videos"] = tab.evaluate(
            "[...document.querySelectorAll('video')].map(v => [v.getAttribute('src'), "
            "v.readyState >= 1 && !v.error && v.videoWidth > 0])"
        )
        tab.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return seen


@pytest.mark.slow
def test_report_pages_open_in_a_real_browser(trained_run, tmp_path):
    frames = np.random.default_rng(2).integers(0, 255, (24, 60, 90), dtype=np.uint8)
    write_avi(tmp_path / "clip.avi", frames)
    out = tmp_path / "scored"
    assert regularity_main(["score", str(trained_run), str(tmp_path / "clip.avi"), "--out",
                            str(out)]) == 0  # fmt: skip
    for folder in (trained_run, out):  # a run's evaluation and a scoring
        seen = open_in_chromium(folder / "report.html", tmp_path / f"{folder.name}.png")
        assert seen["errors"] == [] and seen["failed"] == [], seen
        assert seen["images"] and all(ok for _, ok in seen["images"]), seen["images"]
        assert seen["videos"] and all(ok for _, ok in seen["videos"]), seen["videos"]
        assert (tmp_path / f"{folder.name}.png").stat().st_size > 10_000


def test_an_unwritable_run_is_refused_before_any_work(trained_run, tmp_path, capsys):
    import os

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    shutil.rmtree(run / "graphs")
    (run / "graphs").write_text("")  # a file where the graphs go
    kept = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert regularity_main(["evaluate", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "graphs: is a file where a folder is written" in err
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == kept
    if os.geteuid() == 0:
        return  # root writes into read-only folders: nothing more to refuse here
    (run / "graphs").unlink()
    run.chmod(0o555)
    try:
        assert regularity_main(["evaluate", str(run)]) == 2
        assert "cannot be written" in capsys.readouterr().err
    finally:
        run.chmod(0o755)
