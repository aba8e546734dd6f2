"""The spatiotemporal autoencoder of Chong & Tay 2017 as a plain Keras builder.

Spatial encoder (Conv 11x11/4, 128; Conv 5x5/2, 64), temporal encoder-decoder (ConvLSTM 64 -> 32
-> 64, 3x3), spatial decoder (Deconv 5x5/2, 128; Deconv 11x11/4, C). The time axis is left as
None, so a model trained on 10-frame windows also takes other lengths.
"""

from __future__ import annotations

import keras
from keras import layers

PAPER_FILTERS = (128, 64, 64, 32, 64, 128)


def frame_padding(height: int, width: int) -> str:
    """The padding that round-trips a frame size, or a ValueError naming the size."""

    # 227 -> 55 -> 26 -> 55 -> 227 round-trips exactly with "valid" (the paper's size);
    # sizes divisible by 8 round-trip with "same".
    def valid_round_trip(n: int) -> bool:
        a = (n - 11) // 4 + 1
        b = (a - 5) // 2 + 1
        return (b - 1) * 2 + 5 == a and (a - 1) * 4 + 11 == n

    if valid_round_trip(height) and valid_round_trip(width):
        return "valid"
    if height % 8 == 0 and width % 8 == 0:
        return "same"
    raise ValueError(
        f"frame size {height}x{width} does not round-trip through strides 4 and 2: "
        "use sizes divisible by 8 (e.g. 256) or 227"
    )


def _normalization(kind: str | None, name: str, dtype: object) -> layers.Layer | None:
    if kind is None:
        return None
    if kind == "layer":
        return layers.LayerNormalization(name=name, dtype=dtype)
    if kind == "batch":
        return layers.BatchNormalization(name=name, dtype=dtype)
    raise ValueError(f"normalization must be 'layer', 'batch' or None, not {kind!r}")


def _per_frame(
    x: keras.KerasTensor,
    conv: layers.Layer,
    name: str,
    normalization: str | None,
    activation: str | None,
    dtype: object,
) -> keras.KerasTensor:
    x = layers.TimeDistributed(conv, name=name, dtype=dtype)(x)
    block = name.rsplit("_", 1)[0]
    norm = _normalization(normalization, f"{block}_norm", dtype)
    if norm is not None:
        x = norm(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{block}_act", dtype=dtype)(x)
    return x


def add_encoder(
    x: keras.KerasTensor,
    filters: int,
    kernel: int,
    strides: int,
    padding: str,
    name: str,
    normalization: str | None = "layer",
    dtype: object = None,
) -> keras.KerasTensor:
    """One spatial encoder block, applied to every frame: Conv2D, normalisation, tanh."""
    conv = layers.Conv2D(filters, kernel, strides=strides, padding=padding, dtype=dtype)
    return _per_frame(x, conv, f"{name}_conv", normalization, "tanh", dtype)


def deconv(
    x: keras.KerasTensor,
    filters: int,
    kernel: int,
    strides: int,
    padding: str,
    name: str,
    normalization: str | None = "layer",
    activation: str | None = "tanh",
    dtype: object = None,
) -> keras.KerasTensor:
    """One spatial decoder block, applied to every frame: Conv2DTranspose (+ norm, activation)."""
    conv = layers.Conv2DTranspose(filters, kernel, strides=strides, padding=padding, dtype=dtype)
    return _per_frame(x, conv, f"{name}_deconv", normalization, activation, dtype)


def build_convlstm_ae(
    input_shape: tuple[int | None, int, int, int] = (10, 256, 256, 1),
    filters: tuple[int, ...] = PAPER_FILTERS,
    normalization: str | None = "layer",
    output_activation: str | None = None,
    dtype_policy: str | None = None,
) -> keras.Model:
    """Build the Chong & Tay spatiotemporal autoencoder.

    Args:
        input_shape: (T, H, W, C); T may be None. H and W must be 227 or divisible by 8.
        filters: (conv1, conv2, lstm1, lstm2, lstm3, deconv1) filter counts.
        normalization: "layer" (as in the paper's code), "batch" or None.
        output_activation: None for standardised inputs, "sigmoid" for [0, 1], "tanh" for
            [-1, 1].
        dtype_policy: e.g. "mixed_bfloat16" (about twice as fast on CPUs with bf16 support);
            the output stays float32.

    Returns:
        A model mapping windows ``[B, T, H, W, C]`` to reconstructions of the same shape.

    """
    _, height, width, channels = input_shape
    padding = frame_padding(height, width)
    dtype = dtype_policy
    inputs = keras.Input(shape=(None, height, width, channels), name="frames")
    x = add_encoder(inputs, filters[0], 11, 4, padding, "enc1", normalization, dtype)
    x = add_encoder(x, filters[1], 5, 2, padding, "enc2", normalization, dtype)
    for i, n in enumerate(filters[2:5], start=1):
        x = layers.ConvLSTM2D(
            n, 3, padding="same", return_sequences=True, name=f"convlstm{i}", dtype=dtype
        )(x)
        norm = _normalization(normalization, f"convlstm{i}_norm", dtype)
        if norm is not None:
            x = norm(x)
    x = deconv(x, filters[5], 5, 2, padding, "dec1", normalization, dtype=dtype)
    x = deconv(x, channels, 11, 4, padding, "dec2", None, output_activation, dtype="float32")
    return keras.Model(inputs, x, name="convlstm_ae")
