"""Frame predictors: the U-Net's shapes, the prediction losses, the low-motion filter."""

import json

import imageio.v2 as imageio
import numpy as np
import pytest
from conftest import write_moving_squares
from keras import ops

from gan.unet.network import build_unet_predictor
from regularity.data.base import Video
from regularity.data.preprocess import drop_low_motion, motion_energy
from regularity.nets.losses import gradient_difference_loss, intensity_loss, motion_loss


@pytest.mark.parametrize("frames", [1, 4])
def test_unet_predicts_one_frame_from_k_stacked_frames(frames):
    model = build_unet_predictor((frames, 32, 48, 3), filters=(4, 8, 16))
    out = model(np.zeros((2, frames, 32, 48, 3), np.float32))
    assert out.shape == (2, 32, 48, 3)
    assert float(ops.max(ops.abs(out))) <= 1.0  # tanh, for [-1, 1] frames
    names = {layer.name for layer in model.layers}
    assert {"up1_skip", "up2_skip"} <= names  # a skip connection at each level


def test_unet_refuses_a_size_its_levels_cannot_halve():
    with pytest.raises(ValueError, match="divisible by 16"):
        build_unet_predictor((2, 36, 48, 1))


def test_gradient_difference_is_zero_for_identical_frames_and_positive_otherwise():
    rng = np.random.default_rng(0)
    frames = rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    assert float(gradient_difference_loss(frames, frames)) == 0.0
    blurred = (frames + np.roll(frames, 1, axis=1) + np.roll(frames, 1, axis=2)) / 3
    assert float(gradient_difference_loss(frames, blurred)) > 0
    # a uniform shift of brightness keeps every edge: no gradient difference, but an L2 one
    assert float(gradient_difference_loss(frames, frames + 0.5)) == pytest.approx(0, abs=1e-6)
    assert float(intensity_loss(frames, frames + 0.5)) == pytest.approx(0.25)


def test_motion_loss_asks_for_motion_where_the_real_frame_moved():
    previous = np.zeros((1, 8, 8, 1), np.float32)
    real = previous.copy()
    real[:, 2:4, 2:4] = 1.0
    assert float(motion_loss(previous, real, real)) == 0.0
    assert float(motion_loss(previous, real, previous)) == pytest.approx(4 / 64)


def video(name, frames):
    return Video(name=name, source=name, load_frames=lambda: frames)


def test_the_low_motion_filter_drops_a_static_clip_and_keeps_a_moving_one():
    still = np.full((6, 8, 8), 100, np.uint8)
    moving = np.stack([np.roll(np.eye(8, dtype=np.uint8) * 200, t, axis=1) for t in range(6)])
    assert motion_energy(still) == 0.0 and motion_energy(moving) > 10
    kept, dropped = drop_low_motion([video("still", still), video("moving", moving)], 1.0)
    assert [v.name for v in kept] == ["moving"] and dropped == {"still": 0.0}


def test_seq2seq_teacher_forcing_and_autoregression_differ_where_they_should():
    from convlstm_ae.seq2seq.network import build_seq2seq_predictor

    teacher_forced, autoregressive = build_seq2seq_predictor((4, 16, 24, 3), horizon=3, filters=4)
    rng = np.random.default_rng(0)
    frames = rng.uniform(-1, 1, (2, 4, 16, 24, 3)).astype(np.float32)
    future = rng.uniform(-1, 1, (2, 3, 16, 24, 3)).astype(np.float32)
    previous = np.concatenate([frames[:, -1:], future[:, :-1]], axis=1)
    forced = np.asarray(teacher_forced([frames, previous]))
    free = np.asarray(autoregressive(frames))
    assert forced.shape == free.shape == (2, 3, 16, 24, 3)
    # step 1 sees the last input frame either way; later steps see the truth or the prediction
    np.testing.assert_allclose(forced[:, 0], free[:, 0], atol=1e-6)
    assert not np.allclose(forced[:, 1], free[:, 1], atol=1e-4)
    # fed its own predictions as "truth", teacher forcing is autoregression
    fed_back = np.concatenate([frames[:, -1:], free[:, :-1]], axis=1)
    np.testing.assert_allclose(np.asarray(teacher_forced([frames, fed_back])), free, atol=1e-5)
    assert len(teacher_forced.weights) == len(autoregressive.weights)  # one set of weights


def test_the_prediction_trainer_logs_each_term_and_trains_the_network():
    import keras

    from regularity.nets.prediction import PredictionTrainer

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 2, 16, 16, 1)).astype(np.float32)
    y = rng.uniform(-1, 1, (4, 16, 16, 1)).astype(np.float32)
    network = build_unet_predictor((2, 16, 16, 1), filters=(4, 8))
    trainer = PredictionTrainer(network, motion_weight=0.5)
    trainer.compile(keras.optimizers.Adam(1e-2))
    before = [w.copy() for w in network.get_weights()]
    logs = trainer.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    assert {"loss", "intensity_loss", "gradient_loss", "motion_loss"} <= set(logs)
    total = logs["intensity_loss"][0] + logs["gradient_loss"][0] + 0.5 * logs["motion_loss"][0]
    assert logs["loss"][0] == pytest.approx(total, rel=1e-5)
    assert any(not np.array_equal(a, b) for a, b in zip(before, network.get_weights(), strict=True))
    assert trainer.scoring_model is network


def test_the_adversarial_option_trains_both_networks_and_adds_its_weighted_term():
    import keras

    from gan.unet.network import build_frame_discriminator
    from regularity.nets.prediction import PredictionTrainer

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 2, 16, 16, 1)).astype(np.float32)
    y = rng.uniform(-1, 1, (4, 16, 16, 1)).astype(np.float32)
    network = build_unet_predictor((2, 16, 16, 1), filters=(4, 8))
    discriminator = build_frame_discriminator((16, 16, 1), filters=(4, 8))
    assert discriminator(y).shape == (4, 8, 8, 1)  # one value per patch
    trainer = PredictionTrainer(network, discriminator=discriminator, adversarial_weight=0.05)
    trainer.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    before = [w.copy() for w in discriminator.get_weights()]
    logs = trainer.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    total = (
        logs["intensity_loss"][0] + logs["gradient_loss"][0] + 0.05 * logs["adversarial_loss"][0]
    )
    assert logs["loss"][0] == pytest.approx(total, rel=1e-5)
    assert logs["d_loss"][0] > 0
    changed = zip(before, discriminator.get_weights(), strict=True)
    assert any(not np.array_equal(a, b) for a, b in changed)


def test_the_least_squares_terms_have_the_right_signs():
    import keras

    from regularity.nets.prediction import PredictionTrainer

    class Constant(keras.Model):  # a discriminator that says `value` of any frame
        def __init__(self, value):
            super().__init__()
            self.value = value

        def call(self, frames):
            return ops.full_like(frames[..., :1], self.value)

    x, y = np.zeros((1, 1, 4, 4, 1), "float32"), np.zeros((1, 4, 4, 1), "float32")
    network = build_unet_predictor((1, 4, 4, 1), filters=(2,))
    fooled = PredictionTrainer(network, discriminator=Constant(1.0)).losses_of(x, y, False)
    caught = PredictionTrainer(network, discriminator=Constant(0.0)).losses_of(x, y, False)
    # D saying "real" of the prediction: no adversarial cost for G, a cost for D.
    assert float(fooled["adversarial_loss"]) == 0 < float(caught["adversarial_loss"])
    assert float(fooled["d_loss"]) == pytest.approx(0.5) and float(caught["d_loss"]) == 0.5


def test_predictor_configs_refuse_what_cannot_train_before_loading_data():
    from convlstm_ae.seq2seq.config import Seq2SeqConfig
    from gan.unet.config import UNetConfig

    with pytest.raises(ValueError, match="adversarial_weight needs a one-frame predictor"):
        Seq2SeqConfig(adversarial_weight=0.05)
    with pytest.raises(ValueError, match="must be divisible by 16"):
        UNetConfig(size=(120, 160))
    with pytest.raises(ValueError, match="loss weights"):
        UNetConfig(intensity_weight=0, gradient_weight=0)
    with pytest.raises(ValueError, match="2 input frames or more"):
        UNetConfig(window={"target": "next", "inputs": 1}, pseudo_anomaly_rate=0.2)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["unet_predictor", "seq2seq_predictor", "adversarial"])
def test_both_predictors_run_through_the_pipeline(model, tiny_root, tmp_path):
    from convlstm_ae.seq2seq.config import Seq2SeqConfig
    from gan.unet.config import UNetConfig
    from regularity.data.windows import Target, WindowSpec
    from regularity.run.evaluation import evaluate_run
    from regularity.run.pipeline import train_run
    from regularity.run.quality import prediction_report
    from regularity.score.scoring import ScoreSpec

    adversarial = model == "adversarial"
    model = "unet_predictor" if adversarial else model
    window = (WindowSpec(Target.NEXT, inputs=2) if model == "unet_predictor"
              else WindowSpec(Target.FUTURE, inputs=2, outputs=2))  # fmt: skip
    # averaged weights with a discriminator: Keras must not finalise the average over D's too
    shared = dict(
        window=window,
        dataset="synthetic",
        data_root=str(tiny_root),
        run_dir=str(tmp_path / "run"),
        size=(32, 48),
        epochs=1,
        window_stride=4,
    )
    if model == "unet_predictor":
        config = UNetConfig(
            **shared,
            adversarial_weight=0.05 * adversarial,
            d_filters=(4, 8),
            average_epochs=float(adversarial),
            filters=(4, 8, 16),
        )
    else:  # a predictor of the motion channels too, read by one view per channel group,
        # trained with skip-frame pseudo anomalies
        views = [{"channels": "appearance"}, {"channels": "difference"},
                 {"channels": "flow", "aggregate": "cell_top", "patch": 8}]  # fmt: skip
        config = Seq2SeqConfig(
            **shared, seq2seq_filters=4, seq2seq_layers=1, motion="both",
            score=ScoreSpec(channels="motion", views=views), pseudo_anomaly_rate=0.5,
        )  # fmt: skip
    trainer = train_run(config, verbose=0)
    assert trainer.scoring_model.name == model
    metrics = evaluate_run(config.run_dir, write_videos=0)
    assert 0 <= metrics["frame_auc"]["micro_minmax"] <= 1
    thresholds = json.loads((tmp_path / "run" / "thresholds.json").read_text())
    assert len(thresholds.get("views", [])) == len(config.score.views)
    if config.motion:  # the prediction report compares and shows the grey frames only
        report = prediction_report(config.run_dir, steps=1)
        gif = imageio.mimread(tmp_path / "run" / "prediction" / f"{report['clips'][0]}.gif")
        assert all(np.ptp(frame[..., :3], axis=-1).max() == 0 for frame in gif)
    columns = (tmp_path / "run" / "history.csv").read_text().splitlines()[0].split(",")
    assert {"intensity_loss", "gradient_loss", "motion_loss"} <= set(columns)
    assert ({"adversarial_loss", "d_loss"} <= set(columns)) == adversarial


@pytest.mark.slow
def test_a_short_training_on_moving_shapes_beats_copy_last_frame(tmp_path):
    from gan.unet.config import UNetConfig
    from regularity.data.windows import Target, WindowSpec
    from regularity.run.pipeline import train_run
    from regularity.run.quality import prediction_report

    write_moving_squares(tmp_path)
    config = UNetConfig(
        dataset="motion", data_root=str(tmp_path), run_dir=str(tmp_path / "run"),
        dataset_options={"min_motion": 0.5}, size=(32, 32), color="rgb",
        window=WindowSpec(Target.NEXT, inputs=2), filters=(16, 32, 64),
        epochs=40, window_stride=1, batch_size=8, learning_rate=2e-3,
    )  # fmt: skip
    train_run(config, verbose=0)
    report = prediction_report(config.run_dir)
    for step in ("1", "2"):
        model, baseline = report["model"][step], report["copy_last_frame"][step]
        assert model["psnr_moving"] > baseline["psnr_moving"] + 1.0, (step, model, baseline)
        assert model["ssim_moving"] > baseline["ssim_moving"], (step, model, baseline)
    assert (tmp_path / "run" / "prediction" / f"{report['clips'][0]}.gif").is_file()
    assert (tmp_path / "run" / "prediction" / "prediction.png").is_file()
    assert report["dropped_low_motion"] == {}
