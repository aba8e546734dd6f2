"""Network pieces every family may use: per-frame convolutions, encoder and decoder blocks."""

from __future__ import annotations

import keras
from keras import layers

from regularity.data.preprocess import Scaling


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


def normalization_layer(kind: str | None, name: str, dtype: object) -> layers.Layer | None:
    """A layer or batch normalisation (``kind``), or None."""
    if kind is None:
        return None
    if kind == "layer":
        return layers.LayerNormalization(name=name, dtype=dtype)
    if kind == "batch":
        return layers.BatchNormalization(name=name, dtype=dtype)
    raise ValueError(f"normalization must be 'layer', 'batch' or None, not {kind!r}")


def per_frame(
    x: keras.KerasTensor,
    conv: layers.Layer,
    name: str,
    normalization: str | None,
    activation: str | None,
    dtype: object,
) -> keras.KerasTensor:
    """``conv`` on every frame, then normalisation and activation where given."""
    x = layers.TimeDistributed(conv, name=name, dtype=dtype)(x)
    block = name.rsplit("_", 1)[0]
    norm = normalization_layer(normalization, f"{block}_norm", dtype)
    if norm is not None:
        x = norm(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{block}_act", dtype=dtype)(x)
    return x


def frame_conv(
    x: keras.KerasTensor,
    name: str,
    *,
    filters: int,
    kernel: int,
    strides: int,
    padding: str,
    transpose: bool = False,
    normalization: str | None = "layer",
    activation: str | None = "tanh",
    dtype: object = None,
) -> keras.KerasTensor:
    """One spatial block applied to every frame: convolution, normalisation, activation.

    Conv2D for an encoder (layer ``<name>_conv``), Conv2DTranspose for a decoder (``transpose``;
    ``<name>_deconv``).
    """
    kind, suffix = (layers.Conv2DTranspose, "deconv") if transpose else (layers.Conv2D, "conv")
    conv = kind(filters, kernel, strides=strides, padding=padding, dtype=dtype)
    return per_frame(x, conv, f"{name}_{suffix}", normalization, activation, dtype)


OUTPUT_ACTIVATION = {Scaling.UNIT: "sigmoid", Scaling.SYMMETRIC: "tanh", Scaling.STANDARD: None}
