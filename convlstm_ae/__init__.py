"""Reconstruction and prediction models on top of `regularity`: the ConvLSTM autoencoder."""

import regularity  # noqa: F401  (first: it sets TensorFlow's log level before keras loads it)
from convlstm_ae.model import add_encoder, build_convlstm_ae, deconv
from convlstm_ae.train import (
    AEConfig,
    create_networks,
    derive_thresholds,
    get_training_data,
    train,
)

__all__ = [
    "AEConfig",
    "add_encoder",
    "build_convlstm_ae",
    "create_networks",
    "deconv",
    "derive_thresholds",
    "get_training_data",
    "train",
]
