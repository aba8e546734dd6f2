"""OCR-GAN Video: module shapes for T = 16 and T = 8, channel selection, one train step, save and
load, deterministic scoring through the core, the frame score from the critic, protocols, the
next-frame variant."""

import csv
from pathlib import Path

import keras
import numpy as np
import pytest
from studies.protocols import (
    NORMAL_SNIPPETS,
    global_minmax_accuracy,
    lenient_protocols,
    lenient_table,
    per_batch_auc,
    run_scores,
    snippet_folder_auc,
)

from gan.ocr import OCRConfig, create_ocr_gan
from gan.ocr.ablations import ABLATIONS
from gan.ocr.layers import ChannelSelection, LearnedPositions
from gan.ocr.model import (
    SCORE,
    build_ocr_discriminator,
    build_ocr_generator,
    generator_of,
    mean_attention,
)
from gan.ocr.plots import plot_run_attention
from regularity.data.preprocess import Normalizer
from regularity.run.evaluation import (
    evaluate_run,
    load_critics,
    load_scorer,
    rescore_settings,
    score_clip,
)
from regularity.run.files import read_json, write_json
from regularity.run.pipeline import train_run
from regularity.score.scoring import ScoreSpec

SIZE = (16, 24)

# tiny networks and few steps: tracing their graphs would cost more than running them
pytestmark = pytest.mark.usefixtures("eager")


def tiny_config(root, run_dir, steps=8, **overrides):
    values = dict(data_root=str(root), run_dir=str(run_dir), size=SIZE, epochs=1,
                  window={"target": "same", "inputs": steps}, window_stride=8, batch_size=2,
                  filters=(4, 8, 8), d_filters=(4, 8), fusion_filters=4)  # fmt: skip
    return OCRConfig.recipe("synthetic", **{**values, **overrides})


def windows_of(steps, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (batch, steps, *SIZE, 1)).astype(np.float32)


@pytest.mark.parametrize("steps", [16, 8])
def test_every_module_has_its_shape(steps):
    shape = (steps, *SIZE, 1)
    generator = build_ocr_generator(shape, filters=(4, 8, 8), fusion_filters=4)
    out = generator(windows_of(steps))
    assert out["fake"].shape == out["fake_lap"].shape == out["fake_res"].shape == (2, *shape)
    h, w = SIZE[0] // 2, SIZE[1] // 2  # the fusion works at half size
    assert out["attention"].shape == (2, h * w, 2, steps, steps)
    for level, n in enumerate((4, 8, 8), 1):
        assert out[f"selection{level}"].shape == (2, steps, 2, n)
    np.testing.assert_allclose(out["fake"], out["fake_lap"] + out["fake_res"], atol=1e-6)
    discriminator = build_ocr_discriminator(shape, filters=(4, 8))
    d_out = discriminator(windows_of(steps))
    assert d_out["logits"].shape == (2, steps) and d_out["features"].shape == (2, steps, 8)
    positions = LearnedPositions()
    assert positions(np.zeros((2, steps, 3, 3, 5), np.float32)).shape == (2, steps, 3, 3, 5)
    assert positions.positions.shape == (steps, 5)
    assert mean_attention(generator, windows_of(steps)).shape == (2, steps, steps)
    # ablations build without the modules they drop
    plain = build_ocr_generator(
        shape, filters=(4, 8, 8), temporal_fusion=False, channel_selection=False
    )
    assert set(plain(windows_of(steps))) == {"fake", "fake_lap", "fake_res"}


def test_channel_selection_weights_sum_to_one_across_the_streams():
    rng = np.random.default_rng(1)
    lap, res = (rng.normal(size=(2, 4, 5, 5, 6)).astype(np.float32) for _ in range(2))
    for gating in (True, False):
        selected_lap, selected_res, weights = ChannelSelection(temporal_gating=gating)([lap, res])
        weights = np.asarray(weights)
        assert weights.shape == (2, 4, 2, 6) and (weights > 0).all()
        np.testing.assert_allclose(weights.sum(axis=2), 1.0, atol=1e-6)
        np.testing.assert_allclose(selected_lap, lap * weights[:, :, None, None, 0], atol=1e-6)
        np.testing.assert_allclose(selected_res, res * weights[:, :, None, None, 1], atol=1e-6)


@pytest.mark.parametrize("policy", [None, "mixed_bfloat16"])
def test_one_step_changes_both_networks_and_the_selection(tiny_root, tmp_path, policy):
    config = tiny_config(tiny_root, tmp_path / "run", dtype_policy=policy)
    shape = config.input_shape()
    trainer = create_ocr_gan(config, shape, steps_per_epoch=4)
    x = windows_of(shape[0], batch=2)
    if policy:  # computed in bf16, every weight and what leaves either network in float32
        for network in (trainer.generator, trainer.discriminator):
            inner = [layer for layer in network.layers if layer.weights]
            assert {layer.compute_dtype for layer in inner} == {"bfloat16", "float32"}
            assert {w.dtype for w in network.weights} == {"float32"}
        out = trainer.generator(x)
        outputs = [out[k] for k in ("fake", "fake_lap", "fake_res")]
        outputs.append(trainer.discriminator(x)["logits"])
        assert {keras.backend.standardize_dtype(t.dtype) for t in outputs} == {"float32"}
        assert trainer.generator.get_layer("selection1").gate.compute_dtype == "bfloat16"
    modules = {
        "generator": [trainer.generator.get_layer(n) for n in
                      ("fusion_attention", "fusion_positions", "fusion_convlstm", "fusion_conv3d",
                       "selection1", "selection3", "lap_enc1", "res_enc1", "fake_lap", "fake_res")],
        "discriminator": [trainer.discriminator.get_layer(n) for n in
                          ("d_conv1", "d_temporal_attention", "d_positions", "d_logit")],
    }  # fmt: skip
    before = {
        k: [[w.copy() for w in layer.get_weights()] for layer in v] for k, v in modules.items()
    }
    before_sel = np.asarray(trainer.generator(x)["selection2"])
    assert float(trainer.ramp()) == 0.0  # the temporal weight starts at 0
    logs = trainer.train_on_batch(x, x, return_dict=True)
    assert {"g_loss", "d_loss", "adv_loss", "rec_loss", "feature_loss", "temporal_loss",
            "consistency", "motion", "entropy"} <= set(logs)  # fmt: skip
    for network, layers in modules.items():  # every module of both networks was trained
        for layer, old in zip(layers, before[network], strict=True):
            new = layer.get_weights()
            assert any(not np.array_equal(a, b) for a, b in zip(old, new, strict=True)), layer.name
    after_sel = np.asarray(trainer.generator(x)["selection2"])
    assert not np.allclose(before_sel, after_sel)
    assert float(trainer.ramp()) == pytest.approx(1 / round(config.ramp_epochs * 4))
    # the generator's loss is the weighted sum, the temporal term ramped in
    terms = {k: float(v) for k, v in trainer.losses_of(x, x, training=False).items()}
    expected = (terms["adv_loss"] + 50 * terms["rec_loss"] + terms["feature_loss"]
                + float(trainer.ramp()) * 0.1 * terms["temporal_loss"])  # fmt: skip
    assert terms["g_loss"] == pytest.approx(expected, rel=1e-5)
    assert terms["temporal_loss"] == pytest.approx(
        terms["consistency"] + terms["motion"] + terms["entropy"], rel=1e-5
    )
    trainer.g_optimizer.iterations.assign(10**6)
    assert float(trainer.ramp()) == 1.0


def test_config_refuses_what_cannot_be_built(tiny_root, tmp_path):
    with pytest.raises(ValueError, match="divisible by 8"):
        tiny_config(tiny_root, tmp_path, size=(20, 24))
    with pytest.raises(ValueError, match="must be 'same' or 'next'"):
        tiny_config(tiny_root, tmp_path, window={"target": "future", "inputs": 4, "outputs": 2})
    with pytest.raises(ValueError, match="scored by its prediction"):
        tiny_config(tiny_root, tmp_path, window={"target": "next", "inputs": 4})
    with pytest.raises(ValueError, match="noise must be one of"):
        tiny_config(tiny_root, tmp_path, noise="salt")
    assert tiny_config(tiny_root, tmp_path, steps=16).input_shape()[0] == 16  # T as asked
    # a changed score field keeps the frame score the family declares
    changed = tiny_config(tiny_root, tmp_path, settings={"score.smooth_window": 5})
    assert changed.score.frame_score == SCORE and changed.score.smooth_window == 5
    noisy = tiny_config(tiny_root, tmp_path)
    assert noisy.augmentation() is not None and noisy.batch_transform() is None  # training only
    assert set(ABLATIONS) == {"no_temporal_fusion", "no_channel_selection",
                              "no_temporal_losses", "no_adversarial"}  # fmt: skip


@pytest.mark.slow
def test_next_frame_variant_predicts_the_frame_after_its_window(tiny_root, tmp_path):
    config = OCRConfig.recipe(
        "ped2", data_root=str(tiny_root), run_dir=str(tmp_path / "run"), size=SIZE,
        filters=(4, 8, 8), d_filters=(4, 8), fusion_filters=4,
    )  # fmt: skip
    assert config.window.target.value == "next" and config.score.frame_score == ""
    assert config.window.inputs == 8
    assert (config.score.measure, config.score.flow_weight) == ("psnr", 1.0)
    assert OCRConfig.recipe("reconstruction_ped1").score.frame_score == SCORE
    assert config.pseudo_anomaly_rate == 0.2 and config.size == SIZE
    trainer = create_ocr_gan(config, config.input_shape())
    assert trainer.critics == {}  # no reconstruction to compare: the prediction's error scores
    x, following = windows_of(config.window.inputs), windows_of(1, seed=1)[:, 0]
    prediction = np.asarray(trainer.reconstruction.predict_on_batch(x))
    assert prediction.shape == following.shape
    np.testing.assert_allclose(prediction, np.asarray(trainer.generator(x)["fake"])[:, -1],
                               atol=1e-5)  # fmt: skip
    # L1 on the prediction alone; D judges frames 2..T+1, real against predicted
    terms = trainer.losses_of(x, following, training=False)
    assert float(terms["rec_loss"]) == pytest.approx(np.abs(prediction - following).mean(),
                                                     rel=1e-4)  # fmt: skip
    real, fake = np.concatenate([x[:, 1:], following[:, None]], 1), x[:, 1:]
    fake = np.concatenate([fake, prediction[:, None]], 1)
    d = trainer.discriminator
    expected = np.square(np.asarray(d(fake)["features"]) - np.asarray(d(real)["features"])).mean()
    assert float(terms["feature_loss"]) == pytest.approx(expected, rel=1e-4)
    before = [w.copy() for w in trainer.generator.get_layer("fake_res").get_weights()]
    trainer.train_on_batch(x, following)
    after = trainer.generator.get_layer("fake_res").get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    path = tmp_path / "prediction.keras"
    trainer.reconstruction.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict_on_batch(x), trainer.reconstruction(x), atol=1e-5)
    # the declared recipe through the core: jumping windows, PSNR fused with the flow, attention
    config = config.replace(
        dataset="synthetic", size=(32, 48), window={"target": "next", "inputs": 4}, epochs=1
    )
    train_run(config, verbose=0)
    metrics = evaluate_run(config.run_dir, write_videos=0)
    assert 0 <= metrics["frame_auc"]["micro_minmax"] <= 1 and metrics["second_scores"] == {}
    assert read_json(Path(config.run_dir) / "thresholds.json")["fusion"]["weight"] == 1.0
    assert plot_run_attention(config.run_dir).is_file()


@pytest.mark.slow
def test_trained_run_scores_deterministically_through_the_core(tiny_root, tmp_path):
    run = tmp_path / "run"
    config = tiny_config(tiny_root, run, epochs=2)
    trainer = train_run(config, verbose=0)
    x = windows_of(8)
    selection = np.asarray(trainer.generator(x)["selection1"])
    # the frame-score critic holds the generator: its selection weights survive save and load
    critics = load_critics(run)
    assert set(critics) == {SCORE}
    loaded = generator_of(critics[SCORE])
    np.testing.assert_allclose(loaded(x)["selection1"], selection, atol=1e-6)
    assert (run / "checkpoints" / "scorers" / "epoch_002_ocr.keras").is_file()
    assert load_critics(run, run / "checkpoints" / "epoch_001.keras").keys() == {SCORE}
    # the critic's logit is -(0.9 mse + 0.1 feature error of D's attended features) per frame
    fake = np.asarray(load_scorer(run).predict_on_batch(x))
    logit = np.asarray(critics[SCORE].predict_on_batch(x))
    discriminator = critics[SCORE].get_layer("ocr_discriminator")
    real_f, fake_f = (np.asarray(discriminator.predict_on_batch(w)["features"]) for w in (x, fake))
    expected = 0.9 * np.square(fake - x).mean(axis=(2, 3, 4))
    expected += 0.1 * np.square(fake_f - real_f).mean(axis=-1)
    assert logit.shape == (2, 8)
    np.testing.assert_allclose(-logit, expected, rtol=1e-4, atol=1e-6)
    # the same clip scored twice gives the same numbers (no noise at scoring)
    dataset = config.open_dataset()
    normalizer = Normalizer.load(run / "normalizer.npz")
    clip = dataset.test[0]
    scaled = normalizer.apply(config.input_spec().prepare(clip.frames).astype(np.float32))
    scaled = scaled.astype(np.float32)
    model = load_scorer(run)
    first = score_clip(model, scaled, normalizer, config.score, config.window, critics)
    second = score_clip(model, scaled, normalizer, config.score, config.window, critics)
    for a, b in zip(first[:3], second[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    assert set(first[3]) == {"reconstruction"}  # the error maps' e(t), kept beside
    with pytest.raises(ValueError, match="does not have"):
        score_clip(model, scaled, normalizer, ScoreSpec(frame_score="missing"), config.window)
    metrics = evaluate_run(run, write_videos=1)
    assert metrics["model"] == "ocr_gan" and 0 <= metrics["frame_auc"]["micro_minmax"] <= 1
    assert set(metrics["second_scores"]) == {"reconstruction"}
    with (run / "scores.csv").open() as f:
        row = next(csv.DictReader(f))
    assert "reconstruction" in row and SCORE not in row
    assert plot_run_attention(run).is_file()
    lenient = lenient_protocols(run, batch_frames=32)
    # the strict protocol is the reported figure (read back from scores.csv: float round-off)
    assert lenient["strict"]["micro_minmax"] == pytest.approx(
        metrics["frame_auc"]["micro_minmax"], abs=1e-12
    )
    assert 0 <= lenient["snippet_folder_labels"] <= 1
    assert "per-batch" in lenient_table(lenient)
    errors = [e for e, _ in run_scores(run).values()]

    def recorded_normal_scores():
        """The normal clips' e(t) the run recorded: what its frame threshold was taken over,
        and what the study's normal snippets are cut from."""
        thresholds = read_json(run / "thresholds.json")
        normal = [np.array(e) for e in thresholds["normal_scores"]["clips"]]
        every = np.concatenate(normal)
        frame = pytest.approx(np.percentile(every, config.score.frame_percentile))
        assert thresholds["frame"] == frame
        expected = snippet_folder_auc(errors, normal, config.window.span)
        assert lenient_protocols(run, batch_frames=32)["snippet_folder_labels"] == expected
        return every

    own = recorded_normal_scores()
    assert NORMAL_SNIPPETS[config.thresholds_from] in lenient_table(lenient)
    # scored with the flow fused in, its normal clips' fused e(t) is recorded and read
    rescore_settings(run, {"score.flow_weight": 1.0})
    assert not np.allclose(recorded_normal_scores(), own)
    # a run whose thresholds predate that record: the protocol is not read, and says how to
    fused = read_json(run / "thresholds.json")
    del fused["normal_scores"]["clips"]
    write_json(run / "thresholds.json", fused)
    older = lenient_protocols(run, batch_frames=32)
    assert older["snippet_folder_labels"] is None
    assert "--set thresholds_from=" in lenient_table(older)


def test_per_batch_auc_skips_batches_of_one_class():
    labels = np.array([0, 0, 1, 1, 0, 0, 0, 0])
    errors = np.array([0.0, 0.1, 0.9, 0.8, 0.5, 0.4, 0.3, 0.2])
    figures = per_batch_auc(errors, labels, batch=4)
    assert figures == {"mean_auc": 1.0, "batches_used": 1, "batches": 2}


def test_snippet_labels_from_folders_rank_recordings_not_frames():
    # test clips with low e(t) in their normal frames still rank above every normal snippet
    # when the normal-folder clips score lower overall: the folder, not the frame, is judged
    test = [np.r_[np.full(16, 2.0), np.full(16, 3.0)]]
    normal = [np.full(32, 1.0)]
    assert snippet_folder_auc(test, normal, 16) == 1.0
    figures = global_minmax_accuracy(np.array([1.0, 2.0, 3.0, 9.0]), np.array([0, 0, 1, 1]), 8.0)
    assert figures["accuracy_at_half_after_test_minmax"] == 0.75  # 3.0 falls under 0.5
    assert figures["accuracy_at_normal_threshold"] == 0.75


def test_scoring_variants_put_the_runs_own_frame_score_first(tiny_root, tmp_path):
    from studies.comparisons import scoring_variants

    tiny_config(tiny_root, tmp_path / "run").save()
    specs = scoring_variants(tmp_path / "run", aggregates=True)
    assert list(specs)[0] == "own" and specs["own"].frame_score == SCORE
    assert all(not spec.frame_score for name, spec in specs.items() if name != "own")


def test_each_ablation_turns_off_its_part_and_keeps_the_recipe_and_budget(tiny_root, tmp_path):
    from gan.ocr.ablations import ablation_configs

    flags = {"no_temporal_fusion": ("temporal_fusion", False),
             "no_channel_selection": ("channel_selection", False),
             "no_temporal_losses": ("temporal_weight", 0.0),
             "no_adversarial": ("adversarial_weight", 0.0)}  # fmt: skip
    full = tiny_config(tiny_root, tmp_path / "ocr")
    settings = {"filters": [4, 8, 8], "window": {"target": "same", "inputs": 8}}
    configs = ablation_configs("synthetic", str(tmp_path / "ocr"), settings, size=SIZE, epochs=1)
    assert list(configs) == list(flags)
    for variant, (field, value) in flags.items():
        config = configs[variant]
        assert config.run_dir.endswith(f"ocr_{variant}") and getattr(config, field) == value
        assert config.size == full.size and config.epochs == 1 and config.window.inputs == 8
        assert config.temporal_fusion == (variant != "no_temporal_fusion")
        assert config.channel_selection == (variant != "no_channel_selection")
    assert list(ablation_configs("synthetic", "r", variants=["no_adversarial"])) == [
        "no_adversarial"
    ]
    with pytest.raises(ValueError, match="unknown ablations"):
        ablation_configs("synthetic", "r", variants=["no_such"])
