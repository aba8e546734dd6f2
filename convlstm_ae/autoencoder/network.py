"""The spatiotemporal autoencoder of Chong & Tay 2017 as a plain Keras builder.

Spatial encoder (Conv 11x11/4, 128; Conv 5x5/2, 64), temporal encoder-decoder (ConvLSTM 64 -> 32
-> 64, 3x3), spatial decoder (Deconv 5x5/2, 128; Deconv 11x11/4, C). The time axis is left as
None, so a model trained on 10-frame windows also takes other lengths.
"""

from __future__ import annotations

import keras
from keras import layers

from regularity.nets.blocks import frame_conv, frame_padding, normalization_layer

PAPER_FILTERS = (128, 64, 64, 32, 64, 128)


def build_convlstm_ae(
    input_shape: tuple[int | None, int, int, int] = (10, 256, 256, 1),
    *,
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
    shared = {"padding": padding, "normalization": normalization}
    x = frame_conv(inputs, "enc1", filters=filters[0], kernel=11, strides=4, **shared, dtype=dtype)
    x = frame_conv(x, "enc2", filters=filters[1], kernel=5, strides=2, **shared, dtype=dtype)
    for i, n in enumerate(filters[2:5], start=1):
        x = layers.ConvLSTM2D(
            n, 3, padding="same", return_sequences=True, name=f"convlstm{i}", dtype=dtype
        )(x)
        norm = normalization_layer(normalization, f"convlstm{i}_norm", dtype)
        if norm is not None:
            x = norm(x)
    x = frame_conv(
        x, "dec1", filters=filters[5], kernel=5, strides=2, transpose=True, **shared, dtype=dtype
    )
    x = frame_conv(
        x, "dec2", filters=channels, kernel=11, strides=4, padding=padding, transpose=True,
        normalization=None, activation=output_activation, dtype="float32",
    )  # fmt: skip
    return keras.Model(inputs, x, name="convlstm_ae")
