"""OCR-GAN Video: a dual-frequency video GAN with channel selection and temporal attention.

Every frame of a window ``[B, T, H, W, C]`` is split into its Laplacian detail ``lap`` and
low-frequency residual ``res`` (`regularity.layers.LaplacianSplit`, one pyramid level, in the
model: training and scoring split alike). A temporal fusion reads ``lap + res`` at half size
through three branches (multi-head attention across the T frames of every position, with a
learned positional encoding; a ConvLSTM; a 3D convolution), fuses them by a 1x1 convolution
and adds the summary back to both streams (``fusion_weight``). A dual-stream U-Net, applied
frame by frame with shared weights, encodes each stream; at every encoder level a channel
selection (`regularity.layers.ChannelSelection`) reweights the two streams per channel, the
weights summing to 1. Two decoders give ``fake_lap`` and ``fake_res``; ``fake`` is their sum.

The discriminator is a frame-wise CNN: a feature vector per frame, temporal attention over the
T vectors (its logits read the attended vectors, so that its own loss trains the attention),
one real/fake logit per frame. The generator's loss: adversarial + L1 reconstruction +
feature matching (the discriminator's attended features, real against generated) + temporal
terms (`regularity.losses`: consecutive-frame consistency, Sobel magnitude of frame
differences, attention entropy), the temporal weight ramped in over the first epochs.

Score per frame: ``0.9 x mean (fake - x)^2 + 0.1 x mean (f(fake) - f(x))^2`` (the critic
``ocr``, `regularity.layers.FrameScore`), through the core's window contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
from keras import layers, ops

from gan.model import AdversarialTrainer
from gan.multiscale import adversarial_terms
from gan.recipes import OCR_RECIPES
from gan.train import input_noise
from regularity.config import RunConfig
from regularity.inference import get_test_data
from regularity.layers import ChannelSelection, FrameScore, LaplacianSplit, LearnedPositions
from regularity.losses import attention_entropy, motion_edge_loss, temporal_consistency_loss
from regularity.preprocess import Normalizer
from regularity.runs import read_json
from regularity.scoring import ScoreSpec
from regularity.windows import Target, WindowSpec

SCORE = "ocr"  # the critic that gives the frame score


def _framewise(layer: layers.Layer, name: str) -> layers.Layer:
    return layers.TimeDistributed(layer, name=name)


def add_temporal_fusion(
    lap: object, res: object, filters: int, heads: int, weight: float
) -> tuple[object, object, object]:
    """The temporal summary of ``lap + res`` added to both streams; also the attention scores.

    Branches at half size on a strided stem: attention across T per position (``heads``
    heads, learned positions), a ConvLSTM and a 3x3x3 convolution, concatenated, fused by a
    1x1 convolution to the frame's channels, up-sampled and added times ``weight``.
    Returns the two streams and the attention ``[B, h * w, heads, T, T]``.
    """
    channels = lap.shape[-1]
    frames = layers.Add(name="fusion_input")([lap, res])
    stem = _framewise(
        layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu"), "fusion_stem"
    )(frames)
    positioned = LearnedPositions(name="fusion_positions")(stem)
    steps, height, width = stem.shape[1:4]
    # Positions folded into one axis: [B, h * w, T, f] (softmax takes at most 5 axes).
    flat = layers.Reshape((steps, height * width, filters), name="fusion_flat")(positioned)
    per_position = layers.Permute((2, 1, 3), name="fusion_to_positions")(flat)
    attention = layers.MultiHeadAttention(
        heads, max(filters // heads, 1), attention_axes=(2,), name="fusion_attention"
    )
    attended, scores = attention(per_position, per_position, return_attention_scores=True)
    attended = layers.Permute((2, 1, 3), name="fusion_to_frames")(attended)
    attended = layers.Reshape((steps, height, width, filters), name="fusion_unflat")(attended)
    recurrent = layers.ConvLSTM2D(
        filters, 3, padding="same", return_sequences=True, name="fusion_convlstm"
    )(stem)
    volumetric = layers.Conv3D(filters, 3, padding="same", activation="relu", name="fusion_conv3d")(
        stem
    )
    fused = layers.Concatenate(name="fusion_branches")([attended, recurrent, volumetric])
    summary = _framewise(layers.Conv2D(channels, 1), "fusion_1x1")(fused)
    summary = _framewise(layers.UpSampling2D(2, interpolation="bilinear"), "fusion_up")(summary)
    summary = layers.Rescaling(weight, name="fusion_weight")(summary)
    lap = layers.Add(name="lap_with_summary")([lap, summary])
    res = layers.Add(name="res_with_summary")([res, summary])
    return lap, res, scores


def build_ocr_generator(
    input_shape: tuple,
    filters: tuple[int, ...] = (16, 32, 64),
    fusion_filters: int = 8,
    heads: int = 2,
    fusion_weight: float = 0.1,
    temporal_fusion: bool = True,
    channel_selection: bool = True,
    temporal_gating: bool = True,
) -> keras.Model:
    """Windows ``[B, T, H, W, C]`` -> ``fake``, ``fake_lap``, ``fake_res`` and what it attended.

    Outputs (a dict): ``fake`` (``fake_lap + fake_res``), ``fake_lap``, ``fake_res``,
    ``selection<i>`` (channel-selection weights ``[B, T, 2, c]`` of encoder level i) and
    ``attention`` (the fusion's scores) where those modules are on. ``H`` and ``W`` must be
    divisible by ``2 ** len(filters)``.
    """
    steps, height, width, channels = input_shape
    step = 2 ** len(filters)
    if height % step or width % step:
        raise ValueError(f"frame size {height}x{width} must be divisible by {step}")
    windows = keras.Input(input_shape, name="windows")
    lap, res = LaplacianSplit(name="laplacian_split")(windows)
    outputs = {}
    if temporal_fusion:
        lap, res, outputs["attention"] = add_temporal_fusion(
            lap, res, fusion_filters, heads, fusion_weight
        )
    streams, skips = {"lap": lap, "res": res}, []
    for level, n in enumerate(filters, 1):
        for name in streams:
            conv = layers.Conv2D(n, 4, strides=2, padding="same")
            x = _framewise(conv, f"{name}_enc{level}")(streams[name])
            streams[name] = layers.LeakyReLU(0.2, name=f"{name}_enc{level}_act")(x)
        if channel_selection:
            selection = ChannelSelection(temporal_gating=temporal_gating, name=f"selection{level}")
            streams["lap"], streams["res"], outputs[f"selection{level}"] = selection(
                [streams["lap"], streams["res"]]
            )
        skips.append(dict(streams))
    bottleneck = layers.Concatenate(name="bottleneck")([streams["lap"], streams["res"]])
    for name, activation in (("lap", None), ("res", "tanh")):
        x = bottleneck
        for level in range(len(filters) - 1, 0, -1):
            deconv = layers.Conv2DTranspose(filters[level - 1], 4, strides=2, padding="same")
            x = _framewise(deconv, f"{name}_dec{level}")(x)
            x = layers.ReLU(name=f"{name}_dec{level}_act")(x)
            # Skips from every level but the outermost: through a skip at half size a U-Net
            # copies its input, anomalies included, and its error would say nothing.
            if level > 1:
                x = layers.Concatenate(name=f"{name}_skip{level}")([x, skips[level - 1][name]])
        out = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation=activation)
        outputs[f"fake_{name}"] = _framewise(out, f"fake_{name}")(x)
    outputs["fake"] = layers.Add(name="fake")([outputs["fake_lap"], outputs["fake_res"]])
    return keras.Model(windows, outputs, name="ocr_generator")


def build_ocr_discriminator(
    input_shape: tuple, filters: tuple[int, ...] = (16, 32, 64), heads: int = 2
) -> keras.Model:
    """Windows -> ``logits`` ``[B, T]`` and attended ``features`` ``[B, T, F]`` (a dict).

    Per frame: strided 4x4 convolutions (LeakyReLU; layer norm on all but the first), the
    spatial mean as its feature vector; then attention across the T vectors (learned positions)
    added to them; each attended vector gives its frame's logit (so that D's own loss trains
    the attention that feature matching reads: a logit per frame, informed by the window).
    """
    windows = keras.Input(input_shape, name="windows")
    x = windows
    for level, n in enumerate(filters, 1):
        conv = layers.Conv2D(n, 4, strides=2, padding="same")
        x = _framewise(conv, f"d_conv{level}")(x)
        if level > 1:
            x = layers.LayerNormalization(name=f"d_norm{level}")(x)
        x = layers.LeakyReLU(0.2, name=f"d_act{level}")(x)
    features = _framewise(layers.GlobalAveragePooling2D(), "d_features")(x)
    positioned = LearnedPositions(name="d_positions")(features)
    attention = layers.MultiHeadAttention(
        heads, max(filters[-1] // heads, 1), name="d_temporal_attention"
    )
    attended = layers.Add(name="d_attended")([features, attention(positioned, positioned)])
    attended = layers.LayerNormalization(name="d_attended_norm")(attended)
    logits = layers.Reshape((input_shape[0],), name="d_logits")(
        layers.Dense(1, name="d_logit")(attended)
    )
    return keras.Model(windows, {"logits": logits, "features": attended}, name="ocr_discriminator")


class OCRGanTrainer(AdversarialTrainer):
    """OCR-GAN Video's generator against its discriminator (`AdversarialTrainer`).

    ``g_loss = adversarial_weight * BCE(D(fake), real) + reconstruction_weight * L1 +
    feature_weight * feature matching + ramp * temporal_weight * (consistency + motion +
    attention entropy)``, ``ramp`` rising from 0 to 1 over ``ramp_steps`` generator steps (the
    optimizer's step count: a resumed run continues its ramp). ``d_loss = BCE(D(x), real) +
    BCE(D(fake), fake)``. Every term is logged.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        adversarial_weight: float = 1.0,
        reconstruction_weight: float = 50.0,
        feature_weight: float = 1.0,
        temporal_weight: float = 0.1,
        ramp_steps: int = 1,
        score_weights: tuple[float, float] = (0.9, 0.1),
        collapse_d_loss: float = 0.0,
    ) -> None:
        names = ["g_loss", "d_loss", "adv_loss", "rec_loss", "feature_loss", "temporal_loss",
                 "consistency", "motion", "entropy", "d_real", "d_fake"]  # fmt: skip
        super().__init__(generator, discriminator, names, collapse_d_loss, name="ocr_gan")
        self.adversarial_weight = adversarial_weight
        self.reconstruction_weight = reconstruction_weight
        self.feature_weight = feature_weight
        self.temporal_weight = temporal_weight
        self.ramp_steps = max(int(ramp_steps), 1)
        # Made here: Keras takes no new layers once the trainer is built.
        windows = keras.Input(generator.input_shape[1:], name="frames")
        fake = generator(windows)["fake"]
        self.reconstruction = keras.Model(windows, fake, name="ocr_reconstruction")
        score = FrameScore(*score_weights, name="frame_score")(
            [windows, fake, discriminator(windows)["features"], discriminator(fake)["features"]]
        )
        self.frame_score = keras.Model(windows, score, name="ocr_score")

    @property
    def scoring_model(self) -> keras.Model:
        """Windows -> ``fake``: its error maps give the red dots and the pixel figures."""
        return self.reconstruction

    @property
    def critics(self) -> dict[str, keras.Model]:
        """The frame score (``0.9 rec + 0.1 features``, negated as a "normal" logit)."""
        return {SCORE: self.frame_score}

    @property
    def history_plots(self) -> dict:
        """Reconstruction and temporal terms against epochs, beside ``loss.png``."""
        return {
            "generator_error.png": ("L1 reconstruction", ("rec_loss", "val_rec_loss")),
            "temporal_terms.png": ("temporal terms", ("consistency", "motion", "entropy")),
        }

    def call(self, windows: object) -> object:  # noqa: D102
        return self.reconstruction(windows)

    def ramp(self) -> object:
        """The temporal weight's factor now: ``min(1, generator steps / ramp_steps)``."""
        steps = ops.cast(self.g_optimizer.iterations, "float32")
        return ops.minimum(1.0, steps / float(self.ramp_steps))

    def losses_of(self, inputs: object, targets: object, training: bool) -> dict:
        """Every loss term of one batch (see the class docstring)."""
        out = self.generator(inputs, training=training)
        fake = out["fake"]
        real_d = self.discriminator(targets, training=training)
        fake_d = self.discriminator(fake, training=training)
        adv_loss, d_loss = adversarial_terms(real_d["logits"], fake_d["logits"])
        terms = {
            "adv_loss": adv_loss,
            "rec_loss": ops.mean(ops.abs(fake - targets)),
            "feature_loss": ops.mean(ops.square(fake_d["features"] - real_d["features"])),
            "consistency": temporal_consistency_loss(targets, fake),
            "motion": motion_edge_loss(targets, fake),
            "entropy": attention_entropy(out["attention"]) if "attention" in out else 0.0,
        }
        terms["temporal_loss"] = terms["consistency"] + terms["motion"] + terms["entropy"]
        terms["g_loss"] = (
            self.adversarial_weight * adv_loss
            + self.reconstruction_weight * terms["rec_loss"]
            + self.feature_weight * terms["feature_loss"]
            + self.ramp() * self.temporal_weight * terms["temporal_loss"]
        )
        terms["d_loss"] = d_loss
        terms["d_real"] = ops.mean(ops.sigmoid(real_d["logits"]))
        terms["d_fake"] = ops.mean(ops.sigmoid(fake_d["logits"]))
        return terms


def generator_of(frame_score: keras.Model) -> keras.Model:
    """The full generator (every output) inside a run's saved frame-score critic."""
    return frame_score.get_layer("ocr_generator")


def mean_attention(generator: keras.Model, windows: np.ndarray) -> np.ndarray:
    """The fusion's frame-to-frame attention of each window: ``[B, T, T]``.

    Averaged over positions and heads; row t: how frame t attends to every frame.
    """
    scores = np.asarray(generator.predict_on_batch(windows)["attention"])
    return scores.mean(axis=(1, 2))


@dataclass
class OCRConfig(RunConfig):
    """The run config of OCR-GAN Video: the shared fields plus its modules, losses and noise.

    T is ``window.inputs`` (16 by default; the networks are built for it, never another).
    """

    recipes: ClassVar[dict[str, dict]] = OCR_RECIPES

    model: str = "ocr_gan"
    run_dir: str = "runs/ocr_gan"
    scaling: str = "symmetric"
    window: WindowSpec = field(default_factory=lambda: WindowSpec.of({"inputs": 16}))
    filters: tuple[int, ...] = (16, 32, 64)  # each stream's, per encoder level
    d_filters: tuple[int, ...] = (16, 32, 64)
    fusion_filters: int = 8
    heads: int = 2
    fusion_weight: float = 0.1
    temporal_fusion: bool = True
    channel_selection: bool = True
    temporal_gating: bool = True
    adversarial_weight: float = 1.0
    reconstruction_weight: float = 50.0
    feature_weight: float = 1.0
    temporal_weight: float = 0.1
    ramp_epochs: float = 20.0
    noise: str = "gaussian"
    noise_level: float = 0.05  # in the scaled input's units ([-1, 1])
    d_learning_rate: float = 2e-4
    learning_rate: float = 1e-3  # 2e-4 (the design's) barely moved L1 in 3 synthetic epochs
    score_weights: tuple[float, float] = (0.9, 0.1)  # reconstruction, features
    collapse_d_loss: float = 0.0  # an epoch whose mean d_loss is lower stops training
    score: ScoreSpec = field(default_factory=lambda: ScoreSpec(frame_score=SCORE))

    def validate(self) -> None:
        """Frame size against the U-Net's levels, the window, weights, noise."""
        self.filters, self.d_filters = tuple(self.filters), tuple(self.d_filters)
        self.score_weights = tuple(float(w) for w in self.score_weights)
        if self.window.target is not Target.SAME:
            raise ValueError("OCR-GAN reconstructs its window: window target must be 'same'")
        step = 2 ** len(self.filters)
        if self.size[0] % step or self.size[1] % step:
            raise ValueError(f"size {self.size} must be divisible by {step} (2 ** levels)")
        weights = (self.adversarial_weight, self.reconstruction_weight, self.feature_weight,
                   self.temporal_weight, self.noise_level, *self.score_weights)  # fmt: skip
        if min(weights) < 0 or len(self.score_weights) != 2:
            raise ValueError("loss weights, score weights (two) and noise_level must be >= 0")
        input_noise(self.noise, self.noise_level)  # checks the kind

    def augmentation(self) -> object:
        """Noise on the generator's inputs of training batches (not validation, not scoring)."""
        return input_noise(self.noise, self.noise_level)


def create_ocr_gan(
    config: OCRConfig, input_shape: tuple, steps_per_epoch: int = 1
) -> OCRGanTrainer:
    """Generator, discriminator, losses and both Adams, compiled into one trainer."""
    generator = build_ocr_generator(
        input_shape,
        config.filters,
        config.fusion_filters,
        config.heads,
        config.fusion_weight,
        config.temporal_fusion,
        config.channel_selection,
        config.temporal_gating,
    )
    trainer = OCRGanTrainer(
        generator,
        build_ocr_discriminator(input_shape, config.d_filters, config.heads),
        config.adversarial_weight,
        config.reconstruction_weight,
        config.feature_weight,
        config.temporal_weight,
        round(config.ramp_epochs * steps_per_epoch),
        config.score_weights,
        config.collapse_d_loss,
    )
    # OCR-GAN's (and DCGAN's) Adam for both networks: beta_1 0.5.
    trainer.compile(
        keras.optimizers.Adam(config.learning_rate, beta_1=0.5, clipnorm=1.0),
        keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5, clipnorm=1.0),
    )
    trainer.build((None, *input_shape))
    return trainer


# The four ablations: each module or term off, everything else (budget included) the same.
ABLATIONS: dict[str, dict] = {
    "no_temporal_fusion": {"temporal_fusion": False},
    "no_channel_selection": {"channel_selection": False},
    "no_temporal_losses": {"temporal_weight": 0.0},
    "no_adversarial": {"adversarial_weight": 0.0},
}


def attention_windows(run_dir: str | Path) -> dict[str, np.ndarray]:
    """A normal and an abnormal test window of a run (scaled), for showing its attention.

    Normal: the first window of T frames with no abnormal frame; abnormal: the first with
    every frame abnormal (else the one with the most abnormal frames), from the labelled test
    videos. Labels pick the windows to show, nothing else.
    """
    config = RunConfig.from_run(run_dir)
    normalizer = Normalizer.load(Path(run_dir) / "normalizer.npz")
    steps, found, most = config.window.inputs, {}, 0
    for video in config.open_dataset().test:
        if video.labels is None or len(video.labels) < steps:
            continue
        counts = np.convolve(video.labels.astype(int), np.ones(steps, int), "valid")
        take = {}
        if "normal" not in found and (counts == 0).any():
            take["normal"] = int(np.argmax(counts == 0))
        if counts.max() > most:
            take["abnormal"], most = int(np.argmax(counts)), int(counts.max())
        if take:
            scaled = get_test_data(video, config.input_spec(), normalizer)
            for kind, start in take.items():
                found[kind] = scaled[start : start + steps]
        video.release()
        if "normal" in found and most == steps:
            break
    return found


def plot_run_attention(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """``attention.png``: the fusion's T x T attention of a normal and an abnormal window."""
    from regularity.evaluation import load_critics
    from regularity.plots import plot_attention_maps

    generator = generator_of(load_critics(run_dir)[SCORE])
    if "attention" not in generator.output:
        raise ValueError(f"{run_dir}: trained without temporal fusion: no attention to show")
    windows = attention_windows(run_dir)
    maps = {
        f"{kind} window": mean_attention(generator, window[None])[0]
        for kind, window in windows.items()
    }
    return plot_attention_maps(maps, path or Path(run_dir) / "attention.png")


def train_ablations(
    recipe: str, run_dir: str, settings: dict | None = None, overwrite: bool = False,
    write_videos: int | None = 0, **parameters: object,
) -> dict[str, dict]:  # fmt: skip
    """Trains (or resumes) and tests each of `ABLATIONS` on the full model's recipe and budget.

    Variant ``v`` goes to ``<run_dir>_<v>``; returns each one's ``metrics.json``, after the
    full model's (``run_dir``, trained and tested beforehand) where it is there.
    """
    from regularity.evaluation import evaluate_run
    from regularity.pipeline import train_run

    full = Path(run_dir) / "metrics.json"
    metrics = {"full": read_json(full)} if full.is_file() else {}
    for variant, change in ABLATIONS.items():
        config = OCRConfig.recipe(
            recipe, run_dir=f"{run_dir}_{variant}", settings={**(settings or {}), **change},
            **parameters,
        )  # fmt: skip
        if overwrite or not (Path(config.run_dir) / "metrics.json").is_file():
            train_run(config, create_ocr_gan, overwrite=overwrite)
            evaluate_run(config.run_dir, write_videos=write_videos)
        metrics[variant] = read_json(Path(config.run_dir) / "metrics.json")
    return metrics


def ablation_table(metrics: dict[str, dict]) -> str:
    """Frame AUC (three conventions), EER, training and scoring of each variant, Markdown."""
    lines = ["| variant | frame AUC (minmax / raw / macro) | EER | training | scoring |",
             "|---|---|---|---|---|"]  # fmt: skip

    def figure(value: float | None) -> str:
        return "" if value is None else f"{value:.3f}"

    for variant, m in metrics.items():
        auc = m.get("frame_auc") or {}
        aucs = " / ".join(figure(auc.get(k)) for k in ("micro_minmax", "micro_raw", "macro"))
        lines.append(f"| {variant} | {aucs} | {figure(m.get('eer'))} | "
                     f"{m.get('train_seconds', 0) / 60:.1f} min | {m.get('score_fps', 0):.0f} "
                     "frames/s |")  # fmt: skip
    return "\n".join(lines)
