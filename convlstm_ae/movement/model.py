"""The movement matcher: a model of ONE movement that predicts each frame's successor.

Trained on clips of one movement only, it predicts that movement's next frames well and other
movements' badly, so how well its predictions match the real frames says whether a clip
performs the movement (`convlstm_ae.movement.matching`). A window holds S frames t..t+S-1 and its
targets are t+1..t+S (`regularity.data.windows.Target.SHIFTED`).

Network: a `keras.applications` backbone (VGG16 cut after block 3, or MobileNetV3-Small, the
fast option, cut at stride 8) applied to every frame, its lower blocks frozen; a ConvLSTM over
the feature maps; a decoder (transposed convolutions) that outputs the S next frames in [0, 1].
Training has two phases in one `fit` (so that checkpoints and resume cover both): the head
alone for ``head_epochs``, then the backbone's top block too, by a second optimizer at
``fine_tune_rate`` times the learning rate. Loss per frame: ``l2_weight * L2 +
ssim_weight * (1 - SSIM)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers, ops

from regularity.nets.trainers import Trainer, Update

# VGG16's ImageNet preprocessing ("caffe"): BGR order, ImageNet channel means subtracted.
_VGG_MEAN_BGR = (103.939, 116.779, 123.68)


@dataclass(frozen=True)
class Backbone:
    """A `keras.applications` network cut at ``features``; layers from ``top`` on are its top."""

    application: str
    features: str  # the layer whose output the head reads (stride 8)
    top: str  # first layer of the top block: frozen in phase 1, fine-tuned in phase 2


BACKBONES = {
    "vgg16": Backbone("VGG16", features="block3_pool", top="block3_conv1"),
    "mobilenetv3": Backbone(
        "MobileNetV3Small", features="expanded_conv_2_add", top="expanded_conv_2_expand"
    ),
}


def vgg_preprocess() -> layers.Layer:
    """VGG16's ImageNet input convention on RGB in 0..255: BGR order, channel means subtracted.

    A fixed 1x1 convolution (a channel permutation and a bias), so that a saved model needs no
    custom layer to load.
    """
    import numpy as np

    layer = layers.Conv2D(3, 1, name="vgg_preprocess", trainable=False)
    layer.build((None, None, None, 3))
    layer.set_weights([np.eye(3)[::-1].reshape(1, 1, 3, 3), -np.array(_VGG_MEAN_BGR)])
    return layer


def _application(name: str, size: tuple[int, int], weights: str | None = None) -> keras.Model:
    """The whole `keras.applications` network of a backbone, without its classifier."""
    options = {"include_preprocessing": True} if name == "mobilenetv3" else {}
    application = getattr(keras.applications, BACKBONES[name].application)
    return application(include_top=False, weights=weights, input_shape=(*size, 3), **options)


def build_backbone(
    name: str, size: tuple[int, int], *, weights: str | None = None, freeze_lower: bool = True
) -> keras.Model:
    """The cut backbone: RGB frames in 0..255 ``[H, W, 3]`` -> stride-8 feature maps.

    ``weights``: "imagenet" (downloaded by Keras where the machine can), a local weights file
    of the whole application (``include_top=False``), or None (random initial weights).
    ``freeze_lower``: every layer below the top block stays frozen for good (with ``None``: a
    fixed random-feature front end); False: the whole backbone is trained in phase 2 (from
    scratch, with ``None``). Batch normalisation stays in inference mode everywhere (its
    statistics are the backbone's, as usual when fine-tuning).
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}")
    spec = BACKBONES[name]
    local = weights not in (None, "imagenet")
    if local and not Path(weights).is_file():
        raise FileNotFoundError(f"{weights}: no such backbone weights file")
    base = _application(name, size, None if local else weights)
    if local:
        base.load_weights(weights)
    frames = keras.Input((*size, 3))
    x = vgg_preprocess()(frames) if name == "vgg16" else frames
    cut = keras.Model(base.input, base.get_layer(spec.features).output)
    in_top = not freeze_lower
    for layer in cut.layers:
        in_top = in_top or layer.name == spec.top
        layer.trainable = in_top and not isinstance(layer, layers.BatchNormalization)
    return keras.Model(frames, cut(x), name=f"{name}_backbone")


def build_movement_model(
    input_shape: tuple[int, int, int, int],
    backbone: keras.Model,
    *,
    filters: int = 64,
    dropout: float = 0.0,
    batch_norm: bool = False,
    activation: str = "relu",
) -> keras.Model:
    """Windows ``[S, H, W, C]`` in [0, 1] -> the S next frames ``[S, H, W, C]`` in [0, 1]."""
    steps, height, width, channels = input_shape
    windows = keras.Input(input_shape, name="frames")
    x = layers.Rescaling(255.0, name="to_grey_levels")(windows)
    if channels == 1:  # the backbones take three channels
        x = layers.Concatenate(name="grey_to_rgb")([x, x, x])
    x = layers.TimeDistributed(backbone, name="features")(x)
    x = layers.ConvLSTM2D(filters, 3, padding="same", return_sequences=True, name="temporal")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    decoder = keras.Sequential(name="decoder")
    decoder.add(keras.Input(x.shape[2:]))
    for level, width_ in enumerate((filters * 2, filters, filters // 2)):  # stride 8 -> 1
        decoder.add(layers.Conv2DTranspose(width_, 3, 2, padding="same", name=f"up{level}"))
        if batch_norm:
            decoder.add(layers.BatchNormalization(name=f"bn{level}"))
        decoder.add(layers.Activation(activation, name=f"act{level}"))
    decoder.add(layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="frame"))
    outputs = layers.TimeDistributed(decoder, name="next_frames", dtype="float32")(x)
    return keras.Model(windows, outputs, name="movement_predictor")


def movement_terms(targets: object, predictions: object) -> dict:
    """Per-frame L2 and 1 - SSIM (frames in [0, 1], Wang et al.'s window), batch means."""
    from regularity.nets.losses import intensity_loss, ssim

    flat = (-1, *targets.shape[2:])
    real, predicted = ops.reshape(targets, flat), ops.reshape(predictions, flat)
    return {
        "l2_loss": intensity_loss(real, predicted),
        "ssim_loss": 1.0 - ops.mean(ssim(real, predicted, max_val=1.0)),
    }


class MovementTrainer(Trainer):
    """Two-phase training of a movement predictor, both phases in one `fit`.

    Phase 1 (the first ``head_steps`` steps): the head is trained, the backbone frozen. Phase 2:
    the backbone's top block is trained too, by its own optimizer (a lower learning rate). The
    phase follows the head optimizer's step count, which checkpoints restore, so that a resumed
    run continues in the phase it was in. ``phase`` is logged (its epoch mean: 1, 2 or between).
    """

    def __init__(
        self,
        network: keras.Model,
        backbone: keras.Model,
        head_steps: int,
        l2_weight: float = 1.0,
        ssim_weight: float = 1.0,
    ) -> None:
        super().__init__(["loss", "l2_loss", "ssim_loss", "phase"], name="movement_trainer")
        self.network = network
        self.head_steps = int(head_steps)
        self.loss_weights = {"l2_loss": l2_weight, "ssim_loss": ssim_weight}
        # The backbone's only trainable variables are its top block's (`build_backbone`).
        top = {id(v) for v in backbone.trainable_variables}
        self.top_variables = [v for v in network.trainable_variables if id(v) in top]
        self.head_variables = [v for v in network.trainable_variables if id(v) not in top]
        self.built = True

    @property
    def scoring_model(self) -> keras.Model:
        """The predictor (saved as ``model.keras``)."""
        return self.network

    def compile(self, optimizer: object, fine_tune_optimizer: object) -> None:
        """The head's optimizer and the top block's (phase 2)."""
        self.head_optimizer, self.fine_tune_optimizer = optimizer, fine_tune_optimizer
        self.compile_updates()

    def updates(self) -> list[Update]:
        """The head always; the backbone's top block once in phase two (`in_phase_two`)."""
        updates = [Update("loss", self.head_optimizer, self.head_variables)]
        if self.top_variables:
            top = Update("loss", self.fine_tune_optimizer, self.top_variables, self.in_phase_two)
            updates.append(top)
        return updates

    def call(self, inputs: object, training: bool = False) -> object:  # noqa: D102
        return self.network(inputs, training=training)

    def losses_of(self, inputs: object, targets: object, training: bool) -> dict:
        """The weighted loss and its terms for one batch, and the phase.

        The phase of a training step is the one before its update moves the count; the one
        logged by validation is the phase that made the weights evaluated (after the last
        phase-1 step, still 1).
        """
        terms = movement_terms(targets, self.network(inputs, training=training))
        terms["loss"] = sum(w * terms[name] for name, w in self.loss_weights.items())
        steps = self.head_optimizer.iterations
        in_two = steps >= self.head_steps if training else steps > self.head_steps
        terms["phase"] = keras.ops.where(in_two, 2.0, 1.0)
        return terms

    def in_phase_two(self) -> object:
        """True once the head has been trained alone for ``head_steps`` steps."""
        return self.head_optimizer.iterations >= self.head_steps


def export_backbone(model: keras.Model, path: str | Path) -> Path:
    """A trained movement predictor's backbone as a weights file that ``weights=`` reads.

    The file holds the whole `keras.applications` network (`build_backbone` loads it so); the
    layers above the cut, which the predictor never had, keep their random initial weights.
    So a matcher can start from a backbone trained on other motion data (another run's
    ``model.keras``) instead of random weights. Which backbone it is, the model says (its
    ``<name>_backbone`` layer, as `build_backbone` names it).
    """
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"{path}: a backbone weights file must end in .weights.h5 (Keras)")
    backbone = model.get_layer("features").layer
    cut = backbone.layers[-1]  # after the preprocessing layer
    whole = _application(backbone.name.removesuffix("_backbone"), tuple(model.input_shape[2:4]))
    for layer in cut.layers:
        if layer.weights:
            whole.get_layer(layer.name).set_weights(layer.get_weights())
    whole.save_weights(path)
    return path
