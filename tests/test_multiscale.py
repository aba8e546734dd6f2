"""The multi-scale predictor's networks (Mathieu et al. 2016): scales, stages, any frame size."""

import numpy as np
import pytest

from gan.multiscale.network import build_multiscale_discriminator, build_multiscale_generator

TINY_G = (((4,), (3, 3)), ((4,), (3, 3)), ((4,), (3, 3)), ((4,), (3, 3)))
TINY_D = (((4,), (3,), (8,)), ((4,), (3,), (8,)), ((4,), (3,), (8,)), ((4,), (3,), (8,)))

# tiny networks and few steps: tracing their graphs would cost more than running them
pytestmark = pytest.mark.usefixtures("eager")


def test_one_prediction_per_scale_coarsest_first():
    generator = build_multiscale_generator(4, 3, divisors=(16, 4, 2, 1), stages=TINY_G)
    outputs = generator(np.zeros((2, 64, 64, 12), "float32"))
    assert [tuple(o.shape) for o in outputs] == [
        (2, 4, 4, 3), (2, 16, 16, 3), (2, 32, 32, 3), (2, 64, 64, 3)
    ]  # fmt: skip


def test_each_stage_sees_the_previous_prediction_upsampled():
    generator = build_multiscale_generator(4, 3, divisors=(16, 4, 2, 1), stages=TINY_G)
    for scale in (2, 3, 4):
        upsampled = generator.get_layer(f"g{scale}_upsampled")
        assert upsampled.input.name == generator.get_layer(f"g{scale - 1}_prediction").output.name
        joined = generator.get_layer(f"g{scale}_with_previous").input
        assert any(t.name == upsampled.output.name for t in joined)
    assert "g1_upsampled" not in [layer.name for layer in generator.layers]


def test_trained_on_patches_it_predicts_a_whole_frame():
    generator = build_multiscale_generator(2, 1, divisors=(4, 2, 1), stages=TINY_G[:3])
    patch = generator(np.zeros((1, 32, 32, 2), "float32"))[-1]
    frame = generator(np.zeros((1, 128, 192, 2), "float32"))[-1]  # the same weights
    assert patch.shape == (1, 32, 32, 1) and frame.shape == (1, 128, 192, 1)


def test_the_discriminator_gives_one_logit_per_scale():
    discriminator = build_multiscale_discriminator(
        (32, 32), 4, 3, divisors=(8, 4, 2, 1), stages=TINY_D
    )
    stacked = np.zeros((2, 32, 32, 12), "float32")
    nexts = [np.zeros((2, 32 // d, 32 // d, 3), "float32") for d in (8, 4, 2, 1)]
    assert [tuple(o.shape) for o in discriminator([stacked, *nexts])] == [(2, 1)] * 4


def test_scales_must_fall_to_full_size():
    with pytest.raises(ValueError, match="divisors must fall to 1"):
        build_multiscale_generator(4, 3, divisors=(1, 2, 4, 16), stages=TINY_G)
    with pytest.raises(ValueError, match="3 scales but 4 stages"):
        build_multiscale_generator(4, 3, divisors=(4, 2, 1), stages=TINY_G)


def tiny_trainer(adversarial_weight=0.05, frames=2, channels=1, patch=16):
    import keras

    from gan.multiscale.network import MultiscaleTrainer
    from regularity.nets.prediction import stack_frames

    generator = build_multiscale_generator(frames, channels, divisors=(4, 2, 1), stages=TINY_G[:3])
    windows = keras.Input((frames, 32, 48, channels))
    scorer = keras.Model(windows, generator(stack_frames(windows))[-1])
    discriminator = None
    if adversarial_weight:
        discriminator = build_multiscale_discriminator(
            (patch, patch), frames, channels, divisors=(4, 2, 1), stages=TINY_D[:3]
        )
    trainer = MultiscaleTrainer(generator, scorer, divisors=(4, 2, 1), discriminator=discriminator,
                                adversarial_weight=adversarial_weight)  # fmt: skip
    trainer.compile(
        keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2) if discriminator else None
    )
    return trainer


def test_the_adversarial_terms_have_the_right_signs():
    from regularity.nets.adversarial import adversarial_terms

    sure, unsure = np.full((4, 1), 8.0, "float32"), np.zeros((4, 1), "float32")
    # D right (real called real, the prediction fake): a cost for G, almost none for D
    g_caught, d_right = (float(t) for t in adversarial_terms(sure, -sure))
    # D fooled (the prediction called real): almost no cost for G, a cost for D
    g_fooled, d_fooled = (float(t) for t in adversarial_terms(sure, sure))
    assert g_fooled < 0.01 < 7.9 < g_caught
    assert d_right < 0.01 < 7.9 < d_fooled
    # D undecided: log 2 for G, 2 log 2 for D
    g_half, d_half = (float(t) for t in adversarial_terms(unsure, unsure))
    assert g_half == pytest.approx(np.log(2)) and d_half == pytest.approx(2 * np.log(2))


def test_every_scale_is_compared_with_the_pooled_target_and_the_sums_are_weighted():
    trainer = tiny_trainer(adversarial_weight=0.5)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 2, 16, 16, 1)).astype("float32")
    y = rng.uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    terms = {k: float(v) for k, v in trainer.losses_of(x, y, training=False).items()}
    predictions = trainer.network(x.transpose(0, 2, 3, 1, 4).reshape(2, 16, 16, 2))
    for scale, divisor in enumerate((4, 2, 1), 1):
        pooled = y.reshape(2, 16 // divisor, divisor, 16 // divisor, divisor, 1).mean((2, 4))
        l2 = np.mean((np.asarray(predictions[scale - 1]) - pooled) ** 2)
        assert terms[f"scale{scale}_intensity"] == pytest.approx(l2, rel=1e-4)
    totals = {"intensity": "intensity_loss", "gradient": "gradient_loss",
              "adversarial": "adversarial_loss", "discriminator": "d_loss"}  # fmt: skip
    for kind, total in totals.items():
        per_scale = sum(terms[f"scale{s}_{kind}"] for s in (1, 2, 3))
        assert terms[total] == pytest.approx(per_scale, rel=1e-5)
    weighted = terms["intensity_loss"] + terms["gradient_loss"] + 0.5 * terms["adversarial_loss"]
    assert terms["loss"] == pytest.approx(weighted, rel=1e-5)


def test_one_step_trains_both_networks_and_logs_every_scale():
    trainer = tiny_trainer()
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (4, 2, 16, 16, 1)).astype("float32")
    y = rng.uniform(-1, 1, (4, 16, 16, 1)).astype("float32")
    before = [[w.copy() for w in n.get_weights()] for n in (trainer.network, trainer.discriminator)]
    logs = trainer.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    for network, old in zip((trainer.network, trainer.discriminator), before, strict=True):
        assert any(
            not np.array_equal(a, b) for a, b in zip(old, network.get_weights(), strict=True)
        )
    assert {f"scale{s}_{k}" for s in (1, 2, 3) for k in ("intensity", "gradient",
            "adversarial", "discriminator")} <= set(logs)  # fmt: skip


def test_each_network_is_trained_by_its_own_loss_only():
    import keras

    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (4, 2, 16, 16, 1)).astype("float32")
    y = rng.uniform(-1, 1, (4, 16, 16, 1)).astype("float32")
    trained = []
    for weight in (1.0, 10.0):  # the generator's loss changes, the discriminator's does not
        keras.utils.set_random_seed(0)
        trainer = tiny_trainer()
        trainer.weights_of_terms["intensity_loss"] = weight
        trainer.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
        trainer.fit(x, y, batch_size=4, epochs=1, verbose=0)
        trained.append((trainer.network.get_weights(), trainer.discriminator.get_weights()))
    (g1, d1), (g10, d10) = trained
    assert all(np.array_equal(a, b) for a, b in zip(d1, d10, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(g1, g10, strict=True))


def test_a_generator_trained_on_patches_predicts_whole_frames():
    from gan.multiscale.config import MotionPatches

    # a bright bar moving right by 2 pixels a frame over a dark frame, 32x48
    clip = np.full((12, 32, 48, 1), -1.0, "float32")
    for t in range(12):
        clip[t, 8:24, 2 * t : 2 * t + 6] = 1.0
    x = np.stack([clip[t : t + 2] for t in range(10)])
    y = np.stack([clip[t + 2] for t in range(10)])
    trainer = tiny_trainer(adversarial_weight=0)
    whole_before = float(np.mean((trainer.scoring_model.predict_on_batch(x) - y) ** 2))
    patches, rng = MotionPatches(16, floor=0.1), np.random.default_rng(0)
    for _ in range(30):
        trainer.train_on_batch(*patches(x, y, rng))
    whole = trainer.scoring_model.predict_on_batch(x)  # 32x48: never trained at this size
    assert whole.shape == y.shape
    assert float(np.mean((whole - y) ** 2)) < whole_before / 2


def test_patches_are_drawn_where_the_frames_move_and_stay_aligned():
    from gan.multiscale.config import MotionPatches

    x = np.zeros((8, 2, 32, 48, 1), "float32")
    y = np.zeros((8, 32, 48, 1), "float32")
    y[:, 16:32, 32:48] = 1.0  # only the bottom-right corner moves
    rows, cols = np.mgrid[0:32, 0:48]
    # every input frame but the last (the change is measured from it) says where its patch was
    x[:, :-1, :, :, 0] = rows * 100 + cols
    patch_x, patch_y = (
        np.asarray(a) for a in MotionPatches(16, floor=0.0)(x, y, np.random.default_rng(0))
    )
    assert patch_x.shape == (8, 2, 16, 16, 1) and patch_y.shape == (8, 16, 16, 1)
    for inputs, target in zip(patch_x, patch_y, strict=True):
        top, left = divmod(int(inputs[0, 0, 0, 0]), 100)
        assert target.any()  # no still patch is drawn without a floor
        np.testing.assert_array_equal(target, y[0, top : top + 16, left : left + 16])
        np.testing.assert_array_equal(inputs, x[0, :, top : top + 16, left : left + 16])


def test_the_config_refuses_scales_and_patches_it_cannot_train():
    from gan.multiscale.config import MultiscaleConfig

    with pytest.raises(ValueError, match="divisible by 8"):
        MultiscaleConfig(size=(60, 64))
    with pytest.raises(ValueError, match="patch_size 20 must be a multiple of 8"):
        MultiscaleConfig(size=(64, 64), patch_size=20)
    with pytest.raises(ValueError, match="patch_size -8"):
        MultiscaleConfig(size=(64, 64), patch_size=-8)
    with pytest.raises(ValueError, match="each dividing the one before"):
        MultiscaleConfig(size=(48, 48), patch_size=48, divisors=(6, 4, 2, 1))
    with pytest.raises(ValueError, match="scaling must be 'symmetric'"):
        MultiscaleConfig(size=(64, 64), scaling="unit")
    with pytest.raises(ValueError, match="fit in the frame"):
        MultiscaleConfig(size=(32, 64), patch_size=64)
    with pytest.raises(ValueError, match="one per stage"):
        MultiscaleConfig(size=(64, 64), divisors=(2, 1))


@pytest.mark.slow
def test_the_family_trains_on_patches_resumes_after_a_kill_and_detects(tiny_root, tmp_path):
    import keras
    from conftest import Epochs, Interrupt

    from gan.multiscale import FAMILY as MULTISCALE_FAMILY
    from regularity.run.evaluation import evaluate_run
    from regularity.run.pipeline import train_run

    config = MULTISCALE_FAMILY.config.from_recipe(
        MULTISCALE_FAMILY.recipes["synthetic"], data_root=str(tiny_root),
        run_dir=str(tmp_path / "run"), size=(32, 48), patch_size=16, width=0.05, epochs=2,
        window_stride=4, window={"target": "next", "inputs": 2},
    )  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        train_run(config, verbose=0,
                  callbacks=[Interrupt(after_epoch=0)])  # fmt: skip
    epochs = Epochs()
    trainer = train_run(config, verbose=0, callbacks=[epochs])
    assert epochs.seen == [1]  # resumed: epoch 0 not trained again
    # both optimizers restored: each counts both epochs' steps
    assert int(trainer.network_optimizer.iterations) == 2 * epochs.batches
    assert int(trainer.d_optimizer.iterations) == 2 * epochs.batches
    columns = (tmp_path / "run" / "history.csv").read_text().splitlines()[0].split(",")
    assert {"scale1_intensity", "scale3_gradient", "val_scale2_discriminator", "d_loss"} <= set(
        columns
    )
    for term in ("intensity", "gradient", "adversarial", "discriminator"):
        assert (tmp_path / "run" / f"loss_{term}.png").is_file()  # a curve per scale
    scorer = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert scorer.input_shape == (None, 2, 32, 48, 1)  # whole frames, trained on 16x16 patches
    metrics = evaluate_run(config.run_dir, write_videos=0)
    assert metrics["model"] == "multiscale_gan" and 0 <= metrics["frame_auc"]["macro"] <= 1
