"""Reconstruction and prediction models on top of `regularity`: the ConvLSTM autoencoder."""

import regularity  # noqa: F401  (first: it sets TensorFlow's log level before keras loads it)
from convlstm_ae.model import add_encoder, build_convlstm_ae, deconv
from convlstm_ae.train import AEConfig, create_networks, train
from regularity.evaluation import derive_thresholds

__all__ = [
    "AEConfig",
    "add_encoder",
    "build_convlstm_ae",
    "create_networks",
    "deconv",
    "derive_thresholds",
    "train",
]

from convlstm_ae.recipes import RECIPES  # noqa: E402
from regularity.families import Family  # noqa: E402

FAMILY = Family(
    "convlstm_ae",
    AEConfig,
    create_networks,
    RECIPES,
    "ConvLSTM autoencoder (Chong & Tay 2017) + skip-frame pseudo anomalies",
)

from convlstm_ae.predict import PredictorConfig, Seq2SeqConfig, create_predictor  # noqa: E402

UNET_FAMILY = Family(
    "unet_predictor",
    PredictorConfig,
    create_predictor,
    PredictorConfig.recipes,
    "U-Net next-frame predictor, PSNR score (Liu et al. 2018)",
)
SEQ2SEQ_FAMILY = Family(
    "seq2seq_predictor",
    Seq2SeqConfig,
    create_predictor,
    Seq2SeqConfig.recipes,
    "ConvLSTM seq2seq predictor, PSNR score",
)

from convlstm_ae.movement import MovementConfig, create_movement_model  # noqa: E402

MOVEMENT_FAMILY = Family(
    "movement_matcher",
    MovementConfig,
    create_movement_model,
    MovementConfig.recipes,
    "Movement matcher: a keras.applications backbone + ConvLSTM predicting each frame's successor",
)
