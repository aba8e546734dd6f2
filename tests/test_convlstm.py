import csv
import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from conftest import TINY, Epochs, Interrupt

from convlstm_ae.autoencoder import AEConfig, build_convlstm_ae, create_networks
from regularity.__main__ import main as regularity_main
from regularity.data import load_dataset
from regularity.data.windows import SkipFrameAnomalies, windows_of_clips
from regularity.run import training
from regularity.run.evaluation import derive_thresholds, evaluate_run
from regularity.run.files import read_json
from regularity.run.pipeline import train_run
from regularity.run.training import TimeBudget, TrainingDiverged, fit
from regularity.score.scoring import ScoreSpec

SMALL = (16, 8, 8, 4, 8, 16)


def tiny_config(root, run_dir, **overrides):
    values = dict(
        dataset="synthetic",
        data_root=str(root),
        run_dir=str(run_dir),
        size=(32, 48),
        motion=True,
        filters=SMALL,
        epochs=3,
        window_stride=2,
        batch_size=4,
        score=ScoreSpec(aggregate="sum", channels="motion", patch=8),
    )
    values.update(overrides)
    return AEConfig(**values)


def test_model_shapes():
    model = build_convlstm_ae((10, 64, 96, 2), filters=SMALL)
    assert model.output_shape == (None, None, 64, 96, 2)
    assert model.get_layer("enc1_conv").output.shape[2:4] == (16, 24)
    assert model.get_layer("convlstm2").output.shape[-1] == 4
    assert build_convlstm_ae((10, 227, 227, 1), filters=SMALL).output_shape[2:] == (227, 227, 1)
    x = np.zeros((1, 5, 64, 96, 2), np.float32)  # another window length works too
    assert model.predict_on_batch(x).shape == x.shape
    with pytest.raises(ValueError, match="divisible by 8"):
        build_convlstm_ae((10, 100, 100, 1))


def test_config_builds_the_published_pseudo_anomaly_setting():
    config = AEConfig(skips=(1,), pseudo_anomaly_rate=0.2)
    assert config.pseudo_anomalies() == SkipFrameAnomalies(0.2, (2, 3, 4, 5))
    assert AEConfig(pseudo_anomaly_rate=0.0).pseudo_anomalies() is None
    # refused when the config is made, before any data is loaded
    with pytest.raises(ValueError, match="must all be larger"):
        AEConfig(skips=(1, 2, 3), pseudo_anomaly_rate=0.2)


def test_one_training_step_lowers_the_loss():
    keras.utils.set_random_seed(0)
    model = create_networks(AEConfig(size=(32, 32), filters=SMALL, window=4), (4, 32, 32, 1))
    x = np.random.default_rng(0).normal(size=(4, 4, 32, 32, 1)).astype(np.float32)
    before = float(model.evaluate(x, x, verbose=0))
    model.train_on_batch(x, x)
    assert float(model.evaluate(x, x, verbose=0)) < before


def pairs(x):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, x)).batch(8)


def small_dense(averaged=False):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(keras.optimizers.Adam(use_ema=averaged, ema_momentum=0.9), "mse")
    return model


class StopAfterSecondEpoch(keras.callbacks.Callback):
    """Stops as `TimeBudget` does and keeps the weights training left in the model."""

    def on_epoch_end(self, epoch, logs=None):
        self.raw = self.model.get_weights()
        self.model.stop_training = epoch == 1


def weights_of(path):
    return keras.saving.load_model(path).get_weights()


def test_averaged_weights_are_checkpointed_and_kept_when_training_stops_early(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    stop = StopAfterSecondEpoch()
    fit(small_dense(averaged=True), pairs(x), tmp_path, epochs=4, callbacks=[stop], verbose=0)
    average = weights_of(tmp_path / "checkpoints" / "epoch_002.keras")
    final = weights_of(tmp_path / "model.keras")
    assert all(np.array_equal(a, b) for a, b in zip(average, final, strict=True))
    # the checkpoint is the average, not the last step's weights
    assert not all(np.allclose(a, b) for a, b in zip(average, stop.raw, strict=True))


def test_resumed_training_keeps_its_weight_average(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    fit(small_dense(averaged=True), pairs(x), tmp_path / "whole", epochs=4, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        fit(
            small_dense(averaged=True),
            pairs(x),
            tmp_path,
            4,
            callbacks=[Interrupt(after_epoch=1)],
            verbose=0,
        )
    fit(small_dense(averaged=True), pairs(x), tmp_path, epochs=4, verbose=0)
    whole = weights_of(tmp_path / "whole" / "model.keras")
    resumed = weights_of(tmp_path / "model.keras")
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(whole, resumed, strict=True))


def test_interrupted_training_resumes_from_its_last_checkpoint(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    with pytest.raises(KeyboardInterrupt):
        fit(
            small_dense(),
            pairs(x),
            tmp_path,
            epochs=4,
            callbacks=[Interrupt(after_epoch=1)],
            verbose=0,
        )
    assert (tmp_path / "checkpoints" / "backup").exists()
    counter = Epochs()
    fit(small_dense(), pairs(x), tmp_path, epochs=4, callbacks=[counter], verbose=0)
    assert counter.seen == [2, 3]  # epochs 0 and 1 were not trained again
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("epoch_*.keras")) == [
        f"epoch_{i:03d}.keras" for i in range(1, 5)
    ]
    assert (tmp_path / "model.keras").is_file() and (tmp_path / "loss.png").is_file()
    assert not (tmp_path / "checkpoints" / "backup").exists()


class MinuteEpochs(keras.callbacks.Callback):
    """Every epoch takes a minute on the training module's clock (patched by the test)."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def on_epoch_begin(self, epoch, logs=None):
        self.clock.now += 60


def test_a_resumed_run_spends_only_the_minutes_its_budget_has_left(tmp_path, monkeypatch):
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(training, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    budget = [MinuteEpochs(clock), TimeBudget(2.5)]  # an unbroken run stops after epoch 3
    with pytest.raises(KeyboardInterrupt):
        fit(small_dense(), pairs(x), tmp_path, 10, callbacks=[*budget, Interrupt(1)], verbose=0)
    counter = Epochs()
    info = fit(small_dense(), pairs(x), tmp_path, 10, callbacks=[*budget, counter], verbose=0)
    assert counter.seen == [2]  # 2 of the 2.5 minutes were spent before the kill
    with (tmp_path / "history.csv").open() as f:
        assert [float(r["train_seconds"]) for r in csv.DictReader(f)] == [60, 120, 180]
    assert info["train_seconds"] == 180 and info["epochs_trained"] == 3


def test_a_run_interrupted_before_the_clock_was_logged_resumes_in_its_own_columns(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    with pytest.raises(KeyboardInterrupt):
        fit(small_dense(), pairs(x), tmp_path, 3, callbacks=[Interrupt(0)], verbose=0)
    history = tmp_path / "history.csv"
    with history.open() as f:
        older = [
            {k: v for k, v in r.items() if not k.endswith("train_seconds")}
            for r in csv.DictReader(f)
        ]
    with history.open("w", newline="") as f:  # as written by a version without the clock
        writer = csv.DictWriter(f, fieldnames=list(older[0]))
        writer.writeheader()
        writer.writerows(older)
    fit(small_dense(), pairs(x), tmp_path, 3, verbose=0)
    with history.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(older[0]) and [len(r) for r in rows] == [len(rows[0])] * 4


def test_nan_loss_stops_training(tmp_path):
    x = np.full((8, 4), np.nan, np.float32)
    with pytest.raises(TrainingDiverged, match="loss became NaN or infinite at epoch 1, batch 1"):
        fit(small_dense(), pairs(x), tmp_path, epochs=3, verbose=0)
    assert not (tmp_path / "model.keras").exists()


@pytest.mark.slow
def test_short_training_separates_synthetic_anomalies(tiny_root, tmp_path):
    config = tiny_config(tiny_root, tmp_path / "run")
    model = train_run(config, verbose=0)
    metrics = evaluate_run(config.run_dir, model=model, write_videos=1)
    assert metrics["frame_auc"]["micro_minmax"] > 0.7, metrics["frame_auc"]
    assert metrics["frame_auc"]["macro"] > 0.7
    assert 0 <= metrics["eer"] < 0.4
    # the frame threshold comes from the normal clips, not from the test labels
    source = metrics["threshold"]["source"]
    assert f"of {TINY.n_train} normal (training and held-out) clips" in source
    rows = (Path(config.run_dir) / "scores.csv").read_text().splitlines()
    assert rows[0] == "video,frame,label,error,abnormality,regularity,baseline"
    assert len(rows) == 1 + TINY.n_test * TINY.n_frames
    assert len(list((Path(config.run_dir) / "videos").glob("*.mp4"))) == 1
    assert len(list((Path(config.run_dir) / "graphs").glob("*.png"))) == TINY.n_test
    assert read_json(Path(config.run_dir) / "config.json")["versions"]["keras"]
    # Scoring the same run another way re-derives its thresholds from the same normal clips.
    before = read_json(Path(config.run_dir) / "thresholds.json")
    rescored = replace(config, score=ScoreSpec(scale="input", channels="all"))
    dataset = load_dataset("synthetic", root=tiny_root)
    after = derive_thresholds(rescored, model, dataset)
    assert after == read_json(Path(config.run_dir) / "thresholds.json")
    assert after["frame"] != before["frame"] and after["source"] == before["source"]
    held_out = derive_thresholds(replace(config, thresholds_from="held_out"), model, dataset)
    assert "of 1 held-out normal clips" in held_out["source"]
    with pytest.raises(ValueError, match="thresholds_from must be 'normal' or 'held_out'"):
        replace(config, thresholds_from="test")


@pytest.mark.slow
def test_both_motion_kinds_train_and_each_kind_scores_on_its_own(tiny_root, tmp_path):
    config = tiny_config(
        tiny_root,
        tmp_path / "run",
        motion="both",  # the frame difference and the optical flow, each its own channel
        skips=(1,),
        pseudo_anomaly_rate=0.2,
        size=(48, 72),
    )
    model = train_run(config, verbose=0)
    metrics = evaluate_run(config.run_dir, model=model, write_videos=0)
    assert metrics["frame_auc"]["micro_minmax"] > 0.7, metrics["frame_auc"]
    assert read_json(Path(config.run_dir) / "config.json")["motion"] == "both"
    by_kind = {}
    for kind in ("difference", "flow"):  # thresholds derived again for each kind's channels
        argv = ["evaluate", config.run_dir, "--videos", "0", "--set", f"score.channels={kind}"]
        assert regularity_main(argv) == 0
        by_kind[kind] = read_json(Path(config.run_dir) / "metrics.json")["frame_auc"]
    scored = [by_kind["difference"], by_kind["flow"], metrics["frame_auc"]]
    assert all(a != b for i, a in enumerate(scored) for b in scored[i + 1 :])
    # a kind the input does not have is refused when the config is made, not after training
    with pytest.raises(ValueError, match="this input's channels are 'appearance', 'difference'"):
        replace(config, motion=True, score=ScoreSpec(channels="flow"))
    with pytest.raises(ValueError, match="motion must be true, false or one of"):
        replace(config, motion="optical")


@pytest.mark.slow
def test_training_under_mirrored_strategy_on_two_cpus(tiny_root, tmp_path):
    script = textwrap.dedent(f"""
        import json
        import keras
        import numpy as np
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from test_convlstm import tiny_config
        from regularity.run.pipeline import train_run
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

        class Steps(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.batches = 0
            def on_train_batch_end(self, batch, logs=None):
                self.batches += 1

        steps = Steps()
        config = tiny_config({str(tiny_root)!r}, {str(tmp_path / "run")!r}, epochs=2,
                             window_stride=4, skips=(1,), pseudo_anomaly_rate=0.2,
                             average_epochs=1)
        model = train_run(config, strategy=strategy, verbose=0,
                          callbacks=[steps])
        copies = [strategy.experimental_local_results(v.value) for v in model.weights]
        print(json.dumps({{
            "replicas": strategy.num_replicas_in_sync,
            "batches": steps.batches,
            "copies": sorted({{len(c) for c in copies}}),
            "in_sync": all(np.array_equal(c[0].numpy(), c[1].numpy()) for c in copies),
        }}))
    """)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{root}:{root / 'tests'}", "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": ""},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["replicas"] == 2
    # Each step took one global batch of batch_size windows per replica.
    config = tiny_config(tiny_root, tmp_path / "run", window_stride=4, skips=(1,))
    n_windows = len(windows_of_clips([TINY.n_frames] * 2, config.window, 4, (1,)))
    assert seen["batches"] == 2 * (n_windows // (config.batch_size * 2))
    # Every weight is held on both devices, and the copies stayed identical.
    assert seen["copies"] == [2] and seen["in_sync"]
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    losses = [float(row.split(",")[rows[0].split(",").index("loss")]) for row in rows[1:]]
    assert len(losses) == 2 and np.isfinite(losses).all()
    assert (tmp_path / "run" / "model.keras").is_file()


def test_long_epochs_log_progress_within_the_epoch(tmp_path, caplog):
    import logging

    from regularity.run.training import ProgressLog

    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    model = small_dense()
    with caplog.at_level(logging.INFO, logger="regularity.run.training"):
        model.fit(pairs(x), epochs=1, verbose=0, shuffle=False, callbacks=[ProgressLog(every=3)])
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[0].startswith("epoch 1 step 3 (") and "loss=" in lines[0]


class PoisonLastStep(keras.callbacks.Callback):
    """A NaN gradient on an epoch's last step: the logged loss (from before it) stays finite."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 3:  # 32 samples in batches of 8
            weight = self.model.trainable_variables[0]
            weight.assign(np.full(weight.shape, np.nan, np.float32))


def test_nan_weights_behind_finite_logs_stop_training_and_write_nothing(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    with pytest.raises(TrainingDiverged, match="weights became NaN or infinite at epoch 1;"):
        fit(small_dense(), pairs(x), tmp_path, epochs=2, callbacks=[PoisonLastStep()], verbose=0)
    assert not list((tmp_path / "checkpoints").glob("epoch_*.keras"))
    assert not (tmp_path / "model.keras").exists()
