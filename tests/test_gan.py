"""The UCSD GAN: shapes, noisy inputs with clean targets, both networks trained, resume, the
NaN and collapse stops, and both scores through the core."""

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
import pytest
from conftest import Epochs, Interrupt

from gan.ucsd import GanConfig, create_networks
from gan.ucsd.config import build_discriminator, build_generator
from regularity.data.preprocess import Normalizer
from regularity.run.evaluation import evaluate_run, load_critics
from regularity.run.families import Family, register_family
from regularity.run.leaderboard import leaderboard
from regularity.run.pipeline import get_training_data, train_run, training_windows
from regularity.run.training import TrainingDiverged, finite_weights

SHAPE = (10, 32, 48, 2)  # grey + motion, as the recipes

# tiny networks and few steps: tracing their graphs would cost more than running them
pytestmark = pytest.mark.usefixtures("eager")


def tiny_config(root, run_dir, **overrides):
    # narrow networks: the tests check training mechanics, not what a paper-sized model learns
    values = dict(data_root=str(root), run_dir=str(run_dir), size=SHAPE[1:3], epochs=2,
                  window_stride=4, dtype_policy=None, average_epochs=0,
                  filters=(8, 4, 4, 4, 4, 8), d_filters=(4, 8, 8))  # fmt: skip
    return GanConfig.recipe("synthetic", **{**values, **overrides})


def training_batches(config, transform=True):
    """The run's training windows: noisy inputs and clean targets (clean both without transform)."""
    train, _, _ = get_training_data(config.open_dataset(), config)
    normalizer = Normalizer.fit(train.clips(), config.scaling)
    return training_windows(config, train, normalizer, transform=transform)


def weights_of(network):
    return [w.copy() for w in network.get_weights()]


def changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_generator_and_discriminator_shapes(tiny_root, tmp_path):
    config = tiny_config(tiny_root, tmp_path / "run")
    generator = build_generator(config, config.input_shape())
    discriminator = build_discriminator(config, config.input_shape())
    windows = np.zeros((2, *SHAPE), np.float32)
    assert generator(windows).shape == (2, *SHAPE)
    assert discriminator(windows).shape == (2, SHAPE[0])  # one logit a frame
    # the generator is the autoencoder, built from its encoder and deconv blocks
    names = {layer.name for layer in generator.layers}
    assert {"enc1_conv", "enc2_conv", "convlstm2", "dec1_deconv", "dec2_deconv"} <= names
    assert all(layer.name.startswith("d_") for layer in discriminator.layers[1:])


def test_noise_goes_on_the_inputs_and_the_target_stays_clean(tiny_root, tmp_path):
    config = tiny_config(tiny_root, tmp_path / "run", pseudo_anomaly_rate=0.0, noise_level=0.3)
    clean_inputs, clean_targets = training_batches(config, transform=False).batch(0, 0)
    noisy_inputs, targets = training_batches(config).batch(0, 0)  # the same seed: same windows
    np.testing.assert_array_equal(targets, clean_targets)
    np.testing.assert_array_equal(clean_inputs, clean_targets)  # reconstruction: x is y
    noise = np.asarray(noisy_inputs - clean_inputs)
    assert abs(noise.std() - 0.3) < 0.02 and abs(noise.mean()) < 0.02
    uniform = config.replace(noise="uniform").batch_transform()
    noisy, same = uniform(clean_inputs, clean_targets, np.random.default_rng(0))
    assert np.abs(noisy - clean_inputs).max() <= 0.3 and np.abs(noisy - clean_inputs).max() > 0.2
    assert same is clean_targets
    with pytest.raises(ValueError, match="noise must be one of"):
        config.replace(noise="salt")


def test_one_train_step_changes_both_networks(tiny_root, tmp_path):
    config = tiny_config(tiny_root, tmp_path / "run")
    gan = create_networks(config, config.input_shape())
    generator, discriminator = weights_of(gan.generator), weights_of(gan.discriminator)
    x, y = training_batches(config).batch(0, 0)
    logs = gan.fit(x, y, batch_size=len(x), epochs=1, verbose=0).history
    assert int(gan.g_optimizer.iterations) == int(gan.d_optimizer.iterations) == 1
    assert changed(generator, gan.generator.get_weights())
    assert changed(discriminator, gan.discriminator.get_weights())
    assert {"g_loss", "d_loss", "rec_loss", "adv_loss", "d_real", "d_fake"} <= set(logs)
    # g_loss is the weighted sum of its two terms
    assert logs["g_loss"][0] == pytest.approx(
        config.reconstruction_weight * logs["rec_loss"][0]
        + config.adversarial_weight * logs["adv_loss"][0],
        rel=1e-5,
    )


class Snapshot(keras.callbacks.Callback):
    """Both networks' weights and optimizer steps at the end of epoch 0 / at a resume."""

    def __init__(self):
        super().__init__()
        self.at = {}

    def _take(self, key):
        gan = self.model
        steps = int(gan.g_optimizer.iterations), int(gan.d_optimizer.iterations)
        averages = [v.numpy().copy() for v in gan.g_optimizer._model_variables_moving_average]
        self.at[key] = (weights_of(gan.generator), weights_of(gan.discriminator), averages, *steps)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self._take("killed")

    def on_train_begin(self, logs=None):  # after the backup was restored (shared callbacks)
        self._take("resumed")


@pytest.mark.slow
def test_a_kill_resumes_to_the_same_state_and_both_scores_reach_the_leaderboard(
    tiny_root, tmp_path
):
    config = tiny_config(tiny_root, tmp_path / "run", average_epochs=1)
    before = Snapshot()
    with pytest.raises(KeyboardInterrupt):
        train_run(config, verbose=0, callbacks=[before, Interrupt(after_epoch=0)])
    after, epochs = Snapshot(), Epochs()
    gan = train_run(config, verbose=0, callbacks=[after, epochs])
    assert epochs.seen == [1]  # epoch 0 was not trained again
    killed, resumed = before.at["killed"], after.at["resumed"]
    for saved, restored in zip(killed[:3], resumed[:3], strict=True):  # G, D, G's averages
        assert not changed(saved, restored)
    assert killed[3:] == resumed[3:] == (epochs.batches, epochs.batches)  # both optimizers
    assert int(gan.d_optimizer.iterations) == 2 * epochs.batches
    run = Path(config.run_dir)
    for name in ("loss.png", "generator_error.png", "scorers/alocc.keras"):
        assert (run / name).is_file(), name
    with (run / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]  # as the checkpoints
    assert {"g_loss", "d_loss", "rec_loss", "val_rec_loss"} <= set(rows[0])

    metrics = evaluate_run(run, write_videos=1)
    assert set(metrics["second_scores"]) == {"alocc"}
    assert 0 <= metrics["second_scores"]["alocc"]["frame_auc"]["micro_minmax"] <= 1
    with (run / "scores.csv").open() as f:
        assert "alocc" in next(csv.reader(f))
    critic = load_critics(run)["alocc"]
    assert critic.output_shape == (None, None)  # one "normal" logit per frame

    @dataclass
    class BoardConfig(GanConfig):
        recipes: ClassVar[dict] = {"synthetic": GanConfig.recipes["synthetic"]}
        model: str = "gan_board"

    register_family(Family("gan_board", BoardConfig, create_networks, "gan"))
    # the leaderboard lists both scores of the same run (trained above: it only evaluates)
    shutil.copytree(config.run_dir, tmp_path / "runs" / "gan_board_synthetic")
    entries = leaderboard("synthetic", tmp_path / "board", tmp_path / "runs", str(tiny_root),
                          only=["gan_board"])  # fmt: skip
    assert [e["entry"] for e in entries[5:]] == [
        "gan_board (gan)",
        "gan_board, second score: alocc",
    ]
    assert all("(no learning)" in e["entry"] for e in entries[:5])
    assert 0 <= entries[-1]["frame_auc"]["micro_minmax"] <= 1 and entries[-1]["eer"] is not None
    page = (tmp_path / "board" / "leaderboard_synthetic.md").read_text().splitlines()
    assert "| same run |" in [line for line in page if line.startswith("|")][-1]


class PoisonDiscriminator(keras.callbacks.Callback):
    """Turns a discriminator weight NaN at the start of one epoch (a diverged update)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            kernel = self.model.discriminator.get_layer("d_convlstm").weights[0]
            kernel.assign(np.full(kernel.shape, np.nan, np.float32))


@pytest.mark.slow
def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny_root, tmp_path):
    config = tiny_config(tiny_root, tmp_path / "run", epochs=3)
    with pytest.raises(TrainingDiverged, match="d_loss.*NaN or infinite at epoch 2"):
        train_run(config, verbose=0, callbacks=[PoisonDiscriminator(epoch=1)])
    run = Path(config.run_dir)
    checkpoints = sorted(p.name for p in (run / "checkpoints").glob("epoch_*.keras"))
    assert checkpoints == ["epoch_001.keras"]
    assert finite_weights(keras.saving.load_model(run / "checkpoints" / checkpoints[0]))
    assert (run / "checkpoints" / "backup").is_dir()  # what a resume starts from
    assert not (run / "model.keras").exists()


def test_a_collapsed_discriminator_is_detected():
    gan = create_networks(GanConfig(size=SHAPE[1:3], dtype_policy=None), SHAPE)
    assert gan.training_failure({"d_loss": 0.5}) is None
    message = gan.training_failure({"d_loss": 0.001})
    assert "discriminator collapsed" in message and "0.001" in message


@pytest.mark.slow
def test_a_collapse_stops_training_like_a_nan(tiny_root, tmp_path):
    # a floor above any real d_loss: the first epoch counts as collapsed
    config = tiny_config(tiny_root, tmp_path / "run", collapse_d_loss=100.0)
    with pytest.raises(TrainingDiverged, match="discriminator collapsed.*at epoch 1"):
        train_run(config, verbose=0)
    run = Path(config.run_dir)
    assert not list((run / "checkpoints").glob("epoch_*.keras"))
    assert not (run / "model.keras").exists()


def test_a_per_frame_critic_is_placed_on_the_frames_it_judges():
    from keras import layers

    from regularity.score.inference import predict_test_data
    from regularity.score.scoring import ScoreSpec, critic_errors

    windows = keras.Input((None, 4, 4, 1))
    per_frame_mean = layers.Reshape((-1,))(
        layers.TimeDistributed(layers.GlobalAveragePooling2D())(windows)
    )
    critic = keras.Model(windows, per_frame_mean)  # "normal" logit = the frame's mean
    frames = np.arange(23, dtype=np.float32)[:, None, None, None] * np.ones((1, 4, 4, 1))
    logits, valid = predict_test_data(critic, frames, 10, stride=1, batch_size=4)  # 4 batches
    assert logits.shape == (23,) and valid.all()
    np.testing.assert_allclose(logits, np.arange(23), rtol=1e-6)  # every frame its own value
    errors = critic_errors(logits, valid, ScoreSpec(smooth_window=1))
    np.testing.assert_allclose(errors, -np.arange(23), rtol=1e-6)
    # a clip shorter than a predictor's window: no window, per-frame zeros, none valid
    from regularity.data.windows import Target, WindowSpec

    short, none = predict_test_data(critic, frames[:3], WindowSpec(Target.FUTURE, 3, 2))
    assert short.shape == (3,) and not none.any()
