"""A new family needs no core change: two toy families go through the whole run pipeline."""

from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import Epochs, Interrupt
from toy_families import GAN, PREDICTOR

from regularity import tensorflow_installed
from regularity.run.config import ConfigMismatchError, RunConfig, RunMissingError
from regularity.run.evaluation import evaluate_run
from regularity.run.families import families, register_family
from regularity.run.files import read_json
from regularity.run.pipeline import train_run
from regularity.run.training import TrainingDiverged

STANDARD_OUTPUTS = (
    "config.json", "model.keras", "checkpoints", "history.csv", "loss.png", "normalizer.npz",
    "thresholds.json", "videos", "graphs", "roc.png", "scores.csv", "metrics.json", "logs",
)  # fmt: skip


def config_of(family, root, run_dir, **overrides):
    values = dict(dataset="synthetic", data_root=str(root), run_dir=str(run_dir), size=(32, 48),
                  epochs=2, window_stride=4, batch_size=4)  # fmt: skip
    return family.config(**{**values, **overrides})


@pytest.mark.slow
@pytest.mark.parametrize("family", [PREDICTOR, GAN], ids=lambda f: f.name)
def test_a_toy_family_runs_through_train_evaluate_and_resume(family, tiny_root, tmp_path):
    register_family(family)
    assert family.name in families()
    # the predictor runs in colour: RGB is kept from the reader to the model and back
    colour = {"color": "rgb"} if family is PREDICTOR else {}
    config = config_of(family, tiny_root, tmp_path / "run", **colour)
    with pytest.raises(KeyboardInterrupt):
        train_run(config, verbose=0, callbacks=[Interrupt(after_epoch=0)])
    epochs = Epochs()
    model = train_run(config, verbose=0, callbacks=[epochs])
    assert epochs.seen == [1]  # resumed after the kill: epoch 0 was not trained again
    if family is GAN:
        # both optimizers were restored: each counts the steps of both epochs, not only the
        # one trained after the resume
        assert int(model.d_optimizer.iterations) == 2 * epochs.batches
        assert int(model.g_optimizer.iterations) == 2 * epochs.batches
        columns = (tmp_path / "run" / "history.csv").read_text().splitlines()[0].split(",")
        assert {"g_loss", "d_loss", "rec_loss"} <= set(columns)  # every loss term logged
    metrics = evaluate_run(config.run_dir, write_videos=1)
    run = Path(config.run_dir)
    # TensorBoard's logs are written by TensorFlow: none where it is absent (the JAX tests)
    expected = [n for n in STANDARD_OUTPUTS if n != "logs" or tensorflow_installed()]
    missing = [name for name in expected if not (run / name).exists()]
    assert not missing, missing
    assert 0.0 <= metrics["frame_auc"]["micro_minmax"] <= 1.0
    assert metrics["model"] == family.name and metrics["baseline"]["frame_auc"]["micro_raw"]
    assert RunConfig.from_run(run).window == config.window
    scorer = keras.saving.load_model(run / "model.keras")
    assert scorer.input_shape[-1] == (3 if family is PREDICTOR else 1)


@pytest.mark.slow
def test_a_nan_in_any_loss_term_stops_with_the_last_good_checkpoint(tiny_root, tmp_path):
    config = config_of(GAN, tiny_root, tmp_path / "run", epochs=3, nan_from_step=7)
    with pytest.raises(
        TrainingDiverged, match=r"d_loss\b.*became NaN or infinite at epoch 2, batch 3"
    ):
        train_run(config, verbose=0)
    run = tmp_path / "run"
    assert not (run / "model.keras").exists()
    assert [p.name for p in (run / "checkpoints").glob("epoch_*.keras")] == ["epoch_001.keras"]
    kept = keras.saving.load_model(run / "checkpoints" / "epoch_001.keras")
    assert all(np.isfinite(w).all() for w in kept.get_weights())
    assert "nan" not in (run / "history.csv").read_text().lower()  # the stopped epoch left out
    # the backup of the last good epoch survives (both networks, both optimizers): run again,
    # the same run resumes at epoch 2 (with the step count that poisons it) instead of
    # starting over and passing epoch 1
    assert (run / "checkpoints" / "backup").is_dir()
    epochs = Epochs()
    with pytest.raises(TrainingDiverged, match="at epoch 2, batch 3"):  # as the first time
        train_run(config, verbose=0, callbacks=[epochs])
    assert epochs.seen == [1]
    rows = (run / "history.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["1"]  # each good epoch once, no partial one


@pytest.mark.slow
def test_a_changed_parameter_never_resumes_another_run(tiny_root, tmp_path):
    config = config_of(PREDICTOR, tiny_root, tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train_run(config, verbose=0, callbacks=[Interrupt(after_epoch=0)])
    moved = config.replace(data_root=str(tmp_path / "other_data"))
    with pytest.raises(ConfigMismatchError, match="data_root: stored"):
        train_run(moved, verbose=0)  # other data is another run
    bigger = config.replace(size=(48, 64))
    with pytest.raises(ConfigMismatchError, match=r"size: stored \[32, 48\], asked \[48, 64\]"):
        train_run(bigger, verbose=0)
    assert read_json(tmp_path / "run" / "config.json")["size"] == [32, 48]  # nothing rewritten
    epochs = Epochs()
    train_run(bigger.replace(epochs=1), overwrite=True, verbose=0,
              callbacks=[epochs])  # fmt: skip
    assert epochs.seen == [0]  # started again, not resumed
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(rows) == 2 and read_json(tmp_path / "run" / "config.json")["size"] == [48, 64]
    # a finished run is never trained over by accident
    with pytest.raises(ConfigMismatchError, match="holds a finished run"):
        train_run(bigger.replace(epochs=1), verbose=0)
    # more epochs or another time budget are the same run: allowed
    assert config.replace(epochs=9, run_dir=str(tmp_path / "x")).identity() == config.identity()


def test_evaluating_a_missing_run_says_how_to_make_it(tmp_path):
    with pytest.raises(RunMissingError, match="python -m regularity train FAMILY"):
        evaluate_run(tmp_path / "never_trained")


def test_configs_are_validated_when_made():
    with pytest.raises(ValueError, match="size"):
        RunConfig(size=(0, 4))
    with pytest.raises(ValueError, match="patch_mean"):
        RunConfig(score={"aggregate": "patch_mean"})
    from convlstm_ae.autoencoder import AEConfig

    with pytest.raises(ValueError, match="divisible by 8"):
        AEConfig(size=(100, 100))  # before any data is loaded
    old = {"length": 10, "target": "same", "input": {"size": [64, 96], "color": "grey",
           "motion": True}, "size": [64, 96], "model": "convlstm_ae"}  # fmt: skip
    restored = RunConfig.from_dict(old)
    assert restored.window.inputs == 10 and restored.motion and "input" not in restored.to_dict()
    assert np.array_equal(restored.size, (64, 96))
    # an old predictor's length counted its target frame: it was trained on length - 1 inputs
    predictor = RunConfig.from_dict({**old, "target": "next", "length": 5})
    assert predictor.window.inputs == 4 and predictor.window.span == 5
    # a recipe's field set to null is set to null; a notebook's unset parameter keeps the recipe's
    assert AEConfig.recipe("ped2", settings={"normalization": None}).normalization is None
    assert AEConfig.recipe("ped2", epochs=None).epochs == 20


def test_half_trained_and_damaged_runs_name_the_file(tmp_path):
    from regularity.errors import DataError

    PREDICTOR.config(run_dir=str(tmp_path / "half")).save()  # trained nothing yet
    with pytest.raises(RunMissingError, match=r"model.keras: no trained model here"):
        evaluate_run(tmp_path / "half")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text('{"model": "toy_pre')
    with pytest.raises(DataError, match=r"bad/config.json: not valid JSON"):
        RunConfig.from_run(tmp_path / "bad")
    # an empty config is said to be empty, not a training that did not finish
    (tmp_path / "bad" / "config.json").write_text("")
    with pytest.raises(DataError, match=r"bad/config.json: is empty"):
        evaluate_run(tmp_path / "bad")
    (tmp_path / "bad" / "config.json").write_text("{}")
    with pytest.raises(DataError, match=r"bad/config.json: holds no run configuration"):
        evaluate_run(tmp_path / "bad")


class RawGenerator(keras.callbacks.Callback):
    """The generator's last-step weights, before any averaging is swapped in."""

    def on_epoch_end(self, epoch, logs=None):
        self.raw = [w.copy() for w in self.model.generator.get_weights()]


@pytest.mark.slow
def test_each_network_of_a_two_optimizer_trainer_keeps_its_own_weight_average(tiny_root, tmp_path):
    # every normal clip trained on (no held-out clip), and the generator's weights averaged
    config = config_of(GAN, tiny_root, tmp_path / "run", average_epochs=1, val_clips=0)
    raw = RawGenerator()
    gan = train_run(config, verbose=0, callbacks=[raw])
    assert gan.g_optimizer.use_ema and not gan.d_optimizer.use_ema
    saved = keras.saving.load_model(tmp_path / "run" / "model.keras").get_weights()
    averages = [v.numpy() for v in gan.g_optimizer._model_variables_moving_average]
    trainable = [w for w in gan.generator.weights if w.trainable]
    assert len(averages) == len(trainable)
    # model.keras holds the generator's averages, not its last step's weights
    for weight, average in zip(trainable, averages, strict=True):
        index = [id(w) for w in gan.generator.weights].index(id(weight))
        np.testing.assert_allclose(saved[index], average, rtol=1e-6, atol=1e-7)
    assert not all(np.allclose(a, b) for a, b in zip(saved, raw.raw, strict=True))
    assert read_json(tmp_path / "run" / "metrics.json")["held_out_frames"] == 0


class PoisonSecondEpoch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 0:
            for weight in self.model.trainable_variables:
                weight.assign(np.full(weight.shape, np.nan, np.float32))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


@pytest.mark.slow
def test_the_toy_predictor_stops_on_a_nan_too(tiny_root, tmp_path):
    config = config_of(PREDICTOR, tiny_root, tmp_path / "run", epochs=3)
    with pytest.raises(TrainingDiverged, match=r"\bloss\b.*NaN or infinite at epoch 2, batch 2"):
        train_run(config, verbose=0, callbacks=[PoisonSecondEpoch()])
    assert [p.name for p in (tmp_path / "run" / "checkpoints").glob("epoch_*")] == [
        "epoch_001.keras"
    ]
    assert not (tmp_path / "run" / "model.keras").exists()


@pytest.mark.slow
def test_a_run_stopped_while_deriving_thresholds_finishes_without_training(tiny_root, tmp_path):
    config = config_of(PREDICTOR, tiny_root, tmp_path / "run", epochs=1).replace(cache=True)
    train_run(config, verbose=0)
    first = read_json(tmp_path / "run" / "thresholds.json")
    assert not (tmp_path / "run" / "cache").exists()  # the training windows' file, once trained
    (tmp_path / "run" / "thresholds.json").unlink()  # killed after model.keras was saved
    (tmp_path / "run" / "cache" / "train").mkdir(parents=True)  # ... and before its file went
    epochs = Epochs()
    train_run(config, verbose=0, callbacks=[epochs])
    assert epochs.seen == []  # nothing trained again
    assert read_json(tmp_path / "run" / "thresholds.json") == first
    assert not (tmp_path / "run" / "cache").exists()
