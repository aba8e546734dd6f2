"""The ConvLSTM encoder-decoder predictor: k frames in, the n that follow out."""

from __future__ import annotations

import keras
from keras import layers


def build_seq2seq_predictor(
    input_shape: tuple[int, int, int, int],
    *,
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
