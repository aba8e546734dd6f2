"""OCR-GAN Video: a dual-frequency video GAN with channel selection and temporal attention.

Every frame of a window ``[B, T, H, W, C]`` is split into its Laplacian detail ``lap`` and
low-frequency residual ``res`` (`gan.ocr.layers.LaplacianSplit`, one pyramid level, in the
model: training and scoring split alike). A temporal fusion reads ``lap + res`` at half size
through three branches (multi-head attention across the T frames of every position, with a
learned positional encoding; a ConvLSTM; a 3D convolution), fuses them by a 1x1 convolution
and adds the summary back to both streams (``fusion_weight``). A dual-stream U-Net, applied
frame by frame with shared weights, encodes each stream; at every encoder level a channel
selection (`gan.ocr.layers.ChannelSelection`) reweights the two streams per channel, the
weights summing to 1. Two decoders give ``fake_lap`` and ``fake_res``; ``fake`` is their sum.

The discriminator is a frame-wise CNN: a feature vector per frame, temporal attention over the
T vectors (its logits read the attended vectors, so that its own loss trains the attention),
one real/fake logit per frame. The generator's loss: adversarial + L1 reconstruction +
feature matching (the discriminator's attended features, real against generated) + temporal
terms (`regularity.nets.losses`: consecutive-frame consistency, Sobel magnitude of frame
differences, attention entropy), the temporal weight ramped in over the first epochs.

Score per frame: ``0.9 x mean (fake - x)^2 + 0.1 x mean (f(fake) - f(x))^2`` (the critic
``ocr``, `gan.ocr.layers.FrameScore`), through the core's window contract.

The next-frame variant (``next_frame``: a window target ``next``) reads the same T frames and
keeps the generator's last output frame as its prediction of frame T + 1; the discriminator and
the temporal terms judge the window moved on by one frame, inputs 2..T followed by the target
("real") against the same inputs followed by the prediction, and the frame score is the
prediction's error. In a skip-frame pseudo-anomaly window the inputs jump and the target is the
normal window's, so that "real" window is not a stretch of the clip; 15 of its T steps are the
same in both, so the temporal terms weigh the prediction's step about 1 / (T - 1).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from gan.ocr.layers import ChannelSelection, FrameScore, LaplacianSplit, LearnedPositions
from gan.ocr.losses import attention_entropy, motion_edge_loss, temporal_consistency_loss
from regularity.nets.adversarial import AdversarialTrainer, adversarial_terms

SCORE = "ocr"  # the critic that gives the frame score


def _framewise(layer: layers.Layer, name: str, dtype: object = None) -> layers.Layer:
    return layers.TimeDistributed(layer, name=name, dtype=dtype)


def add_temporal_fusion(
    lap: object, res: object, filters: int, heads: int, weight: float, dtype: object = None
) -> tuple[object, object, object]:
    """The temporal summary of ``lap + res`` added to both streams; also the attention scores.

    Branches at half size on a strided stem: attention across T per position (``heads``
    heads, learned positions), a ConvLSTM and a 3x3x3 convolution, concatenated, fused by a
    1x1 convolution to the frame's channels, up-sampled and added times ``weight``.
    Returns the two streams and the attention ``[B, h * w, heads, T, T]``. ``dtype``: every
    layer's dtype policy (e.g. "mixed_bfloat16").
    """
    channels = lap.shape[-1]
    frames = layers.Add(name="fusion_input", dtype=dtype)([lap, res])
    stem = _framewise(
        layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu", dtype=dtype),
        "fusion_stem",
        dtype,
    )(frames)
    positioned = LearnedPositions(name="fusion_positions", dtype=dtype)(stem)
    steps, height, width = stem.shape[1:4]
    # Positions folded into one axis: [B, h * w, T, f] (softmax takes at most 5 axes).
    flat = layers.Reshape((steps, height * width, filters), name="fusion_flat", dtype=dtype)(
        positioned
    )
    per_position = layers.Permute((2, 1, 3), name="fusion_to_positions", dtype=dtype)(flat)
    attention = layers.MultiHeadAttention(
        heads, max(filters // heads, 1), attention_axes=(2,), name="fusion_attention", dtype=dtype
    )
    attended, scores = attention(per_position, per_position, return_attention_scores=True)
    attended = layers.Permute((2, 1, 3), name="fusion_to_frames", dtype=dtype)(attended)
    attended = layers.Reshape((steps, height, width, filters), name="fusion_unflat", dtype=dtype)(
        attended
    )
    recurrent = layers.ConvLSTM2D(
        filters, 3, padding="same", return_sequences=True, name="fusion_convlstm", dtype=dtype
    )(stem)
    volumetric = layers.Conv3D(
        filters, 3, padding="same", activation="relu", name="fusion_conv3d", dtype=dtype
    )(stem)
    fused = layers.Concatenate(name="fusion_branches", dtype=dtype)(
        [attended, recurrent, volumetric]
    )
    summary = _framewise(layers.Conv2D(channels, 1, dtype=dtype), "fusion_1x1", dtype)(fused)
    up = layers.UpSampling2D(2, interpolation="bilinear", dtype=dtype)
    summary = _framewise(up, "fusion_up", dtype)(summary)
    summary = layers.Rescaling(weight, name="fusion_weight", dtype=dtype)(summary)
    lap = layers.Add(name="lap_with_summary", dtype=dtype)([lap, summary])
    res = layers.Add(name="res_with_summary", dtype=dtype)([res, summary])
    return lap, res, scores


def build_ocr_generator(
    input_shape: tuple,
    *,
    filters: tuple[int, ...] = (16, 32, 64),
    fusion_filters: int = 8,
    heads: int = 2,
    fusion_weight: float = 0.1,
    temporal_fusion: bool = True,
    channel_selection: bool = True,
    temporal_gating: bool = True,
    dtype_policy: str | None = None,
) -> keras.Model:
    """Windows ``[B, T, H, W, C]`` -> ``fake``, ``fake_lap``, ``fake_res`` and what it attended.

    Outputs (a dict): ``fake`` (``fake_lap + fake_res``), ``fake_lap``, ``fake_res``,
    ``selection<i>`` (channel-selection weights ``[B, T, 2, c]`` of encoder level i) and
    ``attention`` (the fusion's scores) where those modules are on. ``H`` and ``W`` must be
    divisible by ``2 ** len(filters)``. ``dtype_policy``: e.g. "mixed_bfloat16"; the frame
    split and the frames out stay float32.
    """
    dtype = dtype_policy
    steps, height, width, channels = input_shape
    step = 2 ** len(filters)
    if height % step or width % step:
        raise ValueError(f"frame size {height}x{width} must be divisible by {step}")
    windows = keras.Input(input_shape, name="windows")
    lap, res = LaplacianSplit(name="laplacian_split")(windows)
    outputs = {}
    if temporal_fusion:
        lap, res, outputs["attention"] = add_temporal_fusion(
            lap, res, fusion_filters, heads, fusion_weight, dtype
        )
    streams, skips = {"lap": lap, "res": res}, []
    for level, n in enumerate(filters, 1):
        for name in streams:
            conv = layers.Conv2D(n, 4, strides=2, padding="same", dtype=dtype)
            x = _framewise(conv, f"{name}_enc{level}", dtype)(streams[name])
            streams[name] = layers.LeakyReLU(0.2, name=f"{name}_enc{level}_act", dtype=dtype)(x)
        if channel_selection:
            selection = ChannelSelection(
                temporal_gating=temporal_gating, name=f"selection{level}", dtype=dtype
            )
            streams["lap"], streams["res"], outputs[f"selection{level}"] = selection(
                [streams["lap"], streams["res"]]
            )
        skips.append(dict(streams))
    bottleneck = layers.Concatenate(name="bottleneck", dtype=dtype)(
        [streams["lap"], streams["res"]]
    )
    for name, activation in (("lap", None), ("res", "tanh")):
        x = bottleneck
        for level in range(len(filters) - 1, 0, -1):
            deconv = layers.Conv2DTranspose(
                filters[level - 1], 4, strides=2, padding="same", dtype=dtype
            )
            x = _framewise(deconv, f"{name}_dec{level}", dtype)(x)
            x = layers.ReLU(name=f"{name}_dec{level}_act", dtype=dtype)(x)
            # Skips from every level but the outermost: through a skip at half size a U-Net
            # copies its input, anomalies included, and its error would say nothing.
            if level > 1:
                skip = skips[level - 1][name]
                x = layers.Concatenate(name=f"{name}_skip{level}", dtype=dtype)([x, skip])
        out = layers.Conv2DTranspose(
            channels, 4, strides=2, padding="same", activation=activation, dtype="float32"
        )
        outputs[f"fake_{name}"] = _framewise(out, f"fake_{name}", "float32")(x)
    outputs["fake"] = layers.Add(name="fake")([outputs["fake_lap"], outputs["fake_res"]])
    return keras.Model(windows, outputs, name="ocr_generator")


def build_ocr_discriminator(
    input_shape: tuple,
    *,
    filters: tuple[int, ...] = (16, 32, 64),
    heads: int = 2,
    dtype_policy: str | None = None,
) -> keras.Model:
    """Windows -> ``logits`` ``[B, T]`` and attended ``features`` ``[B, T, F]`` (a dict).

    Per frame: strided 4x4 convolutions (LeakyReLU; layer norm on all but the first), the
    spatial mean as its feature vector; then attention across the T vectors (learned positions)
    added to them; each attended vector gives its frame's logit (so that D's own loss trains
    the attention that feature matching reads: a logit per frame, informed by the window).
    ``dtype_policy``: e.g. "mixed_bfloat16"; the features and logits out stay float32.
    """
    dtype = dtype_policy
    windows = keras.Input(input_shape, name="windows")
    x = windows
    for level, n in enumerate(filters, 1):
        conv = layers.Conv2D(n, 4, strides=2, padding="same", dtype=dtype)
        x = _framewise(conv, f"d_conv{level}", dtype)(x)
        if level > 1:
            x = layers.LayerNormalization(name=f"d_norm{level}", dtype=dtype)(x)
        x = layers.LeakyReLU(0.2, name=f"d_act{level}", dtype=dtype)(x)
    features = _framewise(layers.GlobalAveragePooling2D(dtype=dtype), "d_features", dtype)(x)
    positioned = LearnedPositions(name="d_positions", dtype=dtype)(features)
    attention = layers.MultiHeadAttention(
        heads, max(filters[-1] // heads, 1), name="d_temporal_attention", dtype=dtype
    )
    attended = layers.Add(name="d_attended", dtype=dtype)(
        [features, attention(positioned, positioned)]
    )
    attended = layers.LayerNormalization(name="d_attended_norm", dtype="float32")(attended)
    logits = layers.Reshape((input_shape[0],), name="d_logits", dtype="float32")(
        layers.Dense(1, name="d_logit", dtype="float32")(attended)
    )
    return keras.Model(windows, {"logits": logits, "features": attended}, name="ocr_discriminator")


class OCRGanTrainer(AdversarialTrainer):
    """OCR-GAN Video's generator against its discriminator (`AdversarialTrainer`).

    ``g_loss = adversarial_weight * BCE(D(fake), real) + reconstruction_weight * L1 +
    feature_weight * feature matching + ramp * temporal_weight * (consistency + motion +
    attention entropy)``, ``ramp`` rising from 0 to 1 over ``ramp_steps`` generator steps (the
    optimizer's step count: a resumed run continues its ramp). ``d_loss = BCE(D(x), real) +
    BCE(D(fake), fake)``. Every term is logged. ``next_frame``: the variant that predicts the
    frame after its window (the module docstring).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        adversarial_weight: float = 1.0,
        reconstruction_weight: float = 50.0,
        feature_weight: float = 1.0,
        temporal_weight: float = 0.1,
        ramp_steps: int = 1,
        score_weights: tuple[float, float] = (0.9, 0.1),
        collapse_d_loss: float = 0.0,
        next_frame: bool = False,
    ) -> None:
        names = ["g_loss", "d_loss", "adv_loss", "rec_loss", "feature_loss", "temporal_loss",
                 "consistency", "motion", "entropy", "d_real", "d_fake"]  # fmt: skip
        super().__init__(
            generator, discriminator, names, collapse_d_loss=collapse_d_loss, name="ocr_gan"
        )
        self.adversarial_weight = adversarial_weight
        self.reconstruction_weight = reconstruction_weight
        self.feature_weight = feature_weight
        self.temporal_weight = temporal_weight
        self.ramp_steps = max(int(ramp_steps), 1)
        self.next_frame = next_frame
        # Made here: Keras takes no new layers once the trainer is built.
        windows = keras.Input(generator.input_shape[1:], name="frames")
        fake = generator(windows)["fake"]
        if next_frame:
            steps, *frame = generator.input_shape[1:]
            last = layers.Cropping3D(((steps - 1, 0), (0, 0), (0, 0)), name="last_frame")(fake)
            prediction = layers.Reshape(tuple(frame), name="prediction")(last)
            self.reconstruction = keras.Model(windows, prediction, name="ocr_prediction")
            self.frame_score = None  # its critic compares a window with its reconstruction
            return
        self.reconstruction = keras.Model(windows, fake, name="ocr_reconstruction")
        score = FrameScore(*score_weights, name="frame_score")(
            [windows, fake, discriminator(windows)["features"], discriminator(fake)["features"]]
        )
        self.frame_score = keras.Model(windows, score, name="ocr_score")

    @property
    def scoring_model(self) -> keras.Model:
        """Windows -> ``fake`` (or the next frame): its error maps give the red dots and pixels."""
        return self.reconstruction

    @property
    def critics(self) -> dict[str, keras.Model]:
        """The frame score (``0.9 rec + 0.1 features``, negated as a "normal" logit).

        Empty for the next-frame variant: its frame score is the prediction's error.
        """
        return {} if self.frame_score is None else {SCORE: self.frame_score}

    @property
    def history_plots(self) -> dict:
        """Reconstruction and temporal terms against epochs, beside ``loss.png``."""
        return {
            "generator_error.png": (
                "L1 of the prediction" if self.next_frame else "L1 reconstruction",
                ("rec_loss", "val_rec_loss"),
            ),
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
        predicted = slice(None)
        if self.next_frame:  # the window moved on by one frame, real against predicted
            seen, predicted = inputs[:, 1:], slice(-1, None)
            fake = ops.concatenate([seen, ops.expand_dims(fake[:, -1], 1)], axis=1)
            targets = ops.concatenate([seen, ops.expand_dims(targets, 1)], axis=1)
        real_d = self.discriminator(targets, training=training)
        fake_d = self.discriminator(fake, training=training)
        adv_loss, d_loss = adversarial_terms(real_d["logits"], fake_d["logits"])
        terms = {
            "adv_loss": adv_loss,
            "rec_loss": ops.mean(ops.abs(fake[:, predicted] - targets[:, predicted])),
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


def generator_of(network: keras.Model) -> keras.Model:
    """The full generator (every output) inside a run's saved scoring network or critic."""
    return network.get_layer("ocr_generator")


def mean_attention(generator: keras.Model, windows: np.ndarray) -> np.ndarray:
    """The fusion's frame-to-frame attention of each window: ``[B, T, T]``.

    Averaged over positions and heads; row t: how frame t attends to every frame.
    """
    # float32 before the mean over thousands of positions: a bf16 network's scores are bf16
    scores = np.asarray(generator.predict_on_batch(windows)["attention"], np.float32)
    return scores.mean(axis=(1, 2))
