"""The adversarial ConvLSTM autoencoder: generator, discriminator and their training step.

The generator is the Chong & Tay autoencoder itself (`convlstm_ae.autoencoder`: two encoder
blocks, the ConvLSTM bottleneck, two decoder blocks). The discriminator reads a
window of 10 frames and gives every frame one logit: "this frame belongs to a real normal
window". As in ALOCC (Sabokrou et al. 2018), the generator is trained on noisy windows to give
back the clean ones and to fool the discriminator; after training, D(G(X)) is a second score.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from convlstm_ae.autoencoder.network import build_convlstm_ae
from regularity.nets.adversarial import AdversarialTrainer

DISCRIMINATOR_FILTERS = (32, 64, 128)


def create_generator(
    input_shape: tuple,
    *,
    filters: tuple[int, ...],
    normalization: str | None,
    output_activation: str | None,
    dtype_policy: str | None = None,
) -> keras.Model:
    """The generator: the ConvLSTM autoencoder of `convlstm_ae`, its blocks reused as they are."""
    autoencoder = build_convlstm_ae(
        input_shape,
        filters=filters,
        normalization=normalization,
        output_activation=output_activation,
        dtype_policy=dtype_policy,
    )
    return keras.Model(autoencoder.input, autoencoder.output, name="generator")


def create_discriminator(
    input_shape: tuple,
    *,
    filters: tuple[int, ...] = DISCRIMINATOR_FILTERS,
    dtype_policy: str | None = None,
) -> keras.Model:
    """Real window vs generated window: windows ``[B, T, H, W, C]`` -> logits ``[B, T]``.

    Per frame, strided convolutions find edges, then textures and shapes, at 1/2, 1/4 and 1/8 of
    the frame; a ConvLSTM over those maps sees whether the frames move like a real window; a
    1x1 convolution gives a logit for every patch (PatchGAN), averaged into one per frame.
    """
    _, height, width, channels = input_shape
    dtype = dtype_policy
    inputs = keras.Input((None, height, width, channels), name="window")
    x = inputs
    for level, n in enumerate(filters, start=1):
        # 4x4 kernels with stride 2 cover each input pixel evenly (no checkerboard bias).
        conv = layers.Conv2D(n, 4, strides=2, padding="same", dtype=dtype)
        x = layers.TimeDistributed(conv, name=f"d_conv{level}", dtype=dtype)(x)
        if level > 1:  # not on the first: normalising raw pixels would hide their contrast
            x = layers.LayerNormalization(name=f"d_norm{level}", dtype=dtype)(x)
        # Leaky: no unit of D goes silent for good (the usual choice in a discriminator).
        x = layers.LeakyReLU(0.2, name=f"d_act{level}", dtype=dtype)(x)
    x = layers.ConvLSTM2D(
        filters[-1] // 2, 3, padding="same", return_sequences=True, name="d_convlstm", dtype=dtype
    )(x)
    # Logits in float32: the losses and D(G(X)) scores are taken from them.
    patch = layers.Conv2D(1, 1, dtype="float32")
    x = layers.TimeDistributed(patch, name="d_patch_logits", dtype="float32")(x)
    pooled = layers.GlobalAveragePooling2D(dtype="float32")
    x = layers.TimeDistributed(pooled, name="d_frame_logit", dtype="float32")(x)
    logits = layers.Reshape((-1,), name="d_logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name="discriminator")


class AdversarialAutoencoder(AdversarialTrainer):
    """The ConvLSTM autoencoder against its discriminator (`AdversarialTrainer`).

    Per batch of (noisy input, clean target) windows:
    ``d_loss = BCE(D(target), 1) + BCE(D(G(input)), 0)`` and
    ``g_loss = reconstruction_weight * MSE(G(input), target) + adversarial_weight *
    BCE(D(G(input)), 1)``. Logged every epoch: both losses, the reconstruction error
    ``rec_loss``, the adversarial term and the mean probability the discriminator gives real
    (``d_real``) and generated (``d_fake``) windows.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        reconstruction_weight: float = 1.0,
        adversarial_weight: float = 0.05,
        collapse_d_loss: float = 0.01,
    ) -> None:
        names = ["g_loss", "d_loss", "rec_loss", "adv_loss", "d_real", "d_fake"]
        super().__init__(
            generator,
            discriminator,
            names,
            collapse_d_loss=collapse_d_loss,
            name="adversarial_autoencoder",
        )
        self.reconstruction_weight = reconstruction_weight
        self.adversarial_weight = adversarial_weight
        # Made here: Keras takes no new layers once the trainer is built.
        windows = keras.Input(generator.input_shape[1:], name="frames")
        self.alocc = keras.Model(windows, discriminator(generator(windows)), name="alocc")

    @property
    def scoring_model(self) -> keras.Model:
        """The generator: its reconstruction error is the first score."""
        return self.generator

    @property
    def critics(self) -> dict[str, keras.Model]:
        """The second score, ALOCC's D(G(X)): a "normal" logit per frame."""
        return {"alocc": self.alocc}

    @property
    def history_plots(self) -> dict:
        """The generator's reconstruction error against epochs, beside ``loss.png``."""
        return {"generator_error.png": ("generator error", ("rec_loss", "val_rec_loss"))}

    def call(self, windows: object) -> object:  # noqa: D102
        return self.generator(windows)

    def losses_of(self, inputs: object, targets: object, training: bool) -> dict:
        """Every loss term of one batch (see the class docstring)."""
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        fake = self.generator(inputs, training=training)
        real_logits = self.discriminator(targets, training=training)
        fake_logits = self.discriminator(fake, training=training)
        rec_loss = ops.mean(ops.square(fake - targets))
        adv_loss = bce(ops.ones_like(fake_logits), fake_logits)
        return {
            "g_loss": self.reconstruction_weight * rec_loss + self.adversarial_weight * adv_loss,
            "d_loss": bce(ops.ones_like(real_logits), real_logits)
            + bce(ops.zeros_like(fake_logits), fake_logits),
            "rec_loss": rec_loss,
            "adv_loss": adv_loss,
            "d_real": ops.mean(ops.sigmoid(real_logits)),
            "d_fake": ops.mean(ops.sigmoid(fake_logits)),
        }
