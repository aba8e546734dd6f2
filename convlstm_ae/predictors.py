"""Frame predictors beside the autoencoder: the U-Net skip-connection predictor.

`build_unet_predictor` is Liu et al. 2018's generator: k frames stacked along the channels, an
encoder of [32, 64, 128, 256, 512] feature maps, a decoder back up with a skip connection from
each encoder level to the decoder level of the same size, and the next frame out (tanh, for
inputs scaled to [-1, 1]). k = 1 is the seeds' "next frame from the current frame".
`build_frame_discriminator` is their optional adversary, `build_seq2seq_predictor` the ConvLSTM
encoder-decoder, `PredictionTrainer` trains any of them on weighted, logged loss terms.
"""

from __future__ import annotations

import keras
from keras import layers

from regularity.training import LoggedTerms

UNET_FILTERS = (32, 64, 128, 256, 512)


def stack_frames(windows: keras.KerasTensor) -> keras.KerasTensor:
    """Windows ``[B, k, H, W, C]`` -> ``[B, H, W, k * C]``: the frames side by side.

    Stacked along the channels, the k frames are seen together by a network's first convolution.
    """
    frames, height, width, channels = windows.shape[1:]
    x = layers.Permute((2, 3, 1, 4), name="frames_last")(windows)
    return layers.Reshape((height, width, frames * channels), name="stacked")(x)


def _double_conv(x: keras.KerasTensor, filters: int, name: str, dtype: object) -> keras.KerasTensor:
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv{i}", dtype=dtype)(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}", dtype=dtype)(x)
        x = layers.ReLU(name=f"{name}_relu{i}", dtype=dtype)(x)
    return x


def build_unet_predictor(
    input_shape: tuple[int, int, int, int],
    filters: tuple[int, ...] = UNET_FILTERS,
    output_activation: str | None = "tanh",
    dtype_policy: str | None = None,
) -> keras.Model:
    """The U-Net predictor: windows ``[B, k, H, W, C]`` -> the next frame ``[B, H, W, C]``.

    Args:
        input_shape: (k, H, W, C); H and W divisible by ``2 ** (len(filters) - 1)``.
        filters: feature maps per level, finest first.
        output_activation: "tanh" for [-1, 1] inputs, "sigmoid" for [0, 1], None otherwise.
        dtype_policy: e.g. "mixed_bfloat16"; the output stays float32.

    """
    frames, height, width, channels = input_shape
    step = 2 ** (len(filters) - 1)
    if height % step or width % step:
        raise ValueError(
            f"frame size {height}x{width} must be divisible by {step} for {len(filters)} levels"
        )
    dtype = dtype_policy
    inputs = keras.Input((frames, height, width, channels), name="frames")
    x = stack_frames(inputs)
    skips = []
    for level, n in enumerate(filters[:-1], start=1):
        x = _double_conv(x, n, f"down{level}", dtype)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}", dtype=dtype)(x)
    x = _double_conv(x, filters[-1], "bottom", dtype)
    for level, (n, skip) in enumerate(zip(filters[-2::-1], skips[::-1], strict=True), start=1):
        x = layers.Conv2DTranspose(n, 2, strides=2, name=f"up{level}_deconv", dtype=dtype)(x)
        x = layers.Concatenate(name=f"up{level}_skip", dtype=dtype)([x, skip])
        x = _double_conv(x, n, f"up{level}", dtype)
    outputs = layers.Conv2D(
        channels, 1, activation=output_activation, name="next_frame", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name="unet_predictor")


def build_seq2seq_predictor(
    input_shape: tuple[int, int, int, int],
    horizon: int = 4,
    filters: int = 64,
    layers_count: int = 2,
    output_activation: str | None = "tanh",
) -> tuple[keras.Model, keras.Model]:
    """The ConvLSTM sequence-to-sequence predictor, as two models sharing every layer.

    Encoder: Conv 3x3/2 per frame, then a stack of ConvLSTMs whose last states start the
    decoder. Decoder, one step per predicted frame: Conv 3x3/2 of the previous frame, the
    ConvLSTM stack, Deconv 3x3/2 back to a frame.

    Returns:
        ``(teacher_forced, autoregressive)``. ``teacher_forced`` maps ``[frames, previous]`` to
        ``horizon`` frames, where ``previous`` holds the frame before each target (the last
        input frame, then the true targets but the last): training. ``autoregressive`` maps
        ``frames`` to ``horizon`` frames, each step fed the one it predicted before: testing.

    """
    frames, height, width, channels = input_shape
    if height % 2 or width % 2:
        raise ValueError(f"frame size {height}x{width} must be even (one stride-2 level)")
    shape = (height, width, channels)
    enc_conv = layers.TimeDistributed(
        layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu"), name="enc_conv"
    )
    dec_conv = layers.TimeDistributed(
        layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu"), name="dec_conv"
    )
    lstm = dict(padding="same", return_sequences=True, return_state=True)
    encoders = [
        layers.ConvLSTM2D(filters, 3, **lstm, name=f"enc_lstm{i}") for i in range(layers_count)
    ]
    decoders = [
        layers.ConvLSTM2D(filters, 3, **lstm, name=f"dec_lstm{i}") for i in range(layers_count)
    ]
    to_frame = layers.TimeDistributed(
        layers.Conv2DTranspose(
            channels, 3, strides=2, padding="same", activation=output_activation
        ),
        name="dec_frame",
    )

    def encode(x: keras.KerasTensor) -> list:
        x, states = enc_conv(x), []
        for encoder in encoders:
            x, h, c = encoder(x)
            states.append([h, c])
        return states

    def decode(previous: keras.KerasTensor, states: list) -> tuple[keras.KerasTensor, list]:
        x, new_states = dec_conv(previous), []
        for decoder, state in zip(decoders, states, strict=True):
            x, h, c = decoder(x, initial_state=state)
            new_states.append([h, c])
        return to_frame(x), new_states

    inputs = keras.Input((frames, *shape), name="frames")
    previous = keras.Input((horizon, *shape), name="previous")
    forced, _ = decode(previous, encode(inputs))
    teacher_forced = keras.Model([inputs, previous], forced, name="seq2seq_teacher_forced")

    states, step, predicted = encode(inputs), inputs[:, -1:], []
    for _ in range(horizon):
        step, states = decode(step, states)
        predicted.append(step)
    future = predicted[0] if horizon == 1 else layers.Concatenate(axis=1, name="future")(predicted)
    autoregressive = keras.Model(inputs, future, name="seq2seq_predictor")
    return teacher_forced, autoregressive


def build_frame_discriminator(
    frame_shape: tuple[int, int, int], filters: tuple[int, ...] = (64, 128, 256, 512)
) -> keras.Model:
    """Liu et al.'s PatchGAN: a frame ``[B, H, W, C]`` -> one real/fake value per patch.

    Conv 4x4 (stride 2 but the last), LeakyReLU 0.2, batch normalisation from the second; a
    final 4x4 convolution to one channel, left linear for the least-squares adversarial loss.
    """
    frame = keras.Input(frame_shape, name="frame")
    x = frame
    for level, n in enumerate(filters, start=1):
        stride = 2 if level < len(filters) else 1
        x = layers.Conv2D(n, 4, strides=stride, padding="same", name=f"d_conv{level}")(x)
        if level > 1:
            x = layers.BatchNormalization(name=f"d_bn{level}")(x)
        x = layers.LeakyReLU(0.2, name=f"d_lrelu{level}")(x)
    patches = layers.Conv2D(1, 4, padding="same", name="d_patches", dtype="float32")(x)
    return keras.Model(frame, patches, name="frame_discriminator")


class PredictionTrainer(LoggedTerms):
    """Trains a frame predictor on weighted loss terms, each logged every epoch.

    ``loss = intensity_weight * L2 + gradient_weight * GDL + motion_weight * motion
    [+ adversarial_weight * adversarial]`` (`regularity.losses`). With a ``discriminator``
    (Liu et al. 2018's adversarial option, least squares), the generator's term is
    ``(D(Y^) - 1)^2 / 2`` and the discriminator, trained by its own optimizer from the same
    forward pass, minimises ``d_loss = (D(Y) - 1)^2 / 2 + D(Y^)^2 / 2``.
    Batches are ``(inputs, targets)``: a U-Net's ``[B, k, H, W, C]`` ->
    ``[B, H, W, C]``, or a teacher-forced seq2seq's ``([frames, previous], [B, n, H, W, C])``.
    The motion term compares each target's change from the frame before it with the
    prediction's. ``scoring_model`` is what testing runs: the U-Net itself, or the seq2seq's
    autoregressive model.
    """

    def __init__(
        self,
        network: keras.Model,
        scoring_model: keras.Model | None = None,
        intensity_weight: float = 1.0,
        gradient_weight: float = 1.0,
        motion_weight: float = 0.0,
        discriminator: keras.Model | None = None,
        adversarial_weight: float = 0.05,
    ) -> None:
        weights_of_terms = {
            "intensity_loss": intensity_weight,
            "gradient_loss": gradient_weight,
            "motion_loss": motion_weight,
        }
        logged = ["loss", *weights_of_terms]
        if discriminator is not None:
            weights_of_terms["adversarial_loss"] = adversarial_weight
            logged += ["adversarial_loss", "d_loss"]
        super().__init__(logged, name="prediction_trainer")
        self.network = network
        self.scorer = scoring_model or network
        self.discriminator = discriminator
        self.weights_of_terms = weights_of_terms
        self.built = True  # its only weights are the networks', built already

    @property
    def scoring_model(self) -> keras.Model:
        """The network testing runs (autoregressive for a seq2seq)."""
        return self.scorer

    def compile(self, optimizer: object, d_optimizer: object = None) -> None:
        """The predictor's optimizer, and the discriminator's where there is one."""
        self.network_optimizer, self.d_optimizer = optimizer, d_optimizer
        if d_optimizer is None:
            super().compile(optimizer)
        else:
            # Keras finalises its own optimizer's weight average over all the trainer's
            # weights, the discriminator's included: with two networks it trains nothing (built
            # empty, so that checkpoints hold it) and the core finalises each network's average.
            super().compile()
            self.optimizer.build([])
            d_optimizer.build(self.discriminator.trainable_variables)
        optimizer.build(self.network.trainable_variables)  # built now: a resume restores it

    def call(self, inputs: object, training: bool = False) -> object:  # noqa: D102
        return self.network(inputs, training=training)

    def terms(self, inputs: object, targets: object, training: bool) -> dict:
        """The total loss and each of its terms for one batch."""
        from regularity.losses import gradient_difference_loss, intensity_loss, motion_loss

        predictions = self.network(inputs, training=training)
        # The frame before each target: the last input frame for a one-step predictor, the
        # teacher-forced "previous" frames for a seq2seq.
        before = inputs[1] if isinstance(inputs, list | tuple) else inputs[:, -1]
        terms = {
            "intensity_loss": intensity_loss(targets, predictions),
            "gradient_loss": gradient_difference_loss(targets, predictions),
            "motion_loss": motion_loss(before, targets, predictions),
        }
        if self.discriminator is not None:
            from keras import ops

            real = self.discriminator(targets, training=training)
            fake = self.discriminator(predictions, training=training)
            terms["adversarial_loss"] = ops.mean(ops.square(fake - 1.0)) / 2
            terms["d_loss"] = (ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake))) / 2
        terms["loss"] = self.weighted_sum(terms)
        return terms

    def weighted_sum(self, terms: dict) -> object:
        """The loss: each weighted term (``weights_of_terms``) of ``terms``, summed."""
        return sum(w * terms[n] for n, w in self.weights_of_terms.items() if w)

    def train_step(self, data: tuple) -> dict:  # noqa: D102
        import tensorflow as tf

        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        # One forward pass; the discriminator's tape is asked about its own weights only.
        with tf.GradientTape() as tape, tf.GradientTape() as d_tape:
            terms = self.terms(inputs, targets, training=True)
        if self.discriminator is not None:
            d_variables = self.discriminator.trainable_variables
            self.d_optimizer.apply(d_tape.gradient(terms["d_loss"], d_variables), d_variables)
        variables = self.network.trainable_variables
        self.network_optimizer.apply(tape.gradient(terms["loss"], variables), variables)
        return self.track(terms)

    def test_step(self, data: tuple) -> dict:  # noqa: D102
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.track(self.terms(inputs, targets, training=False))
