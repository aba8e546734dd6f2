"""The ConvLSTM spatiotemporal autoencoder (Chong & Tay 2017) with skip-frame pseudo anomalies."""

from convlstm_ae.autoencoder.config import AEConfig, create_networks
from convlstm_ae.autoencoder.network import build_convlstm_ae
from regularity.run.families import Family

__all__ = ["FAMILY", "AEConfig", "build_convlstm_ae", "create_networks"]

FAMILY = Family(
    "convlstm_ae",
    AEConfig,
    create_networks,
    "ConvLSTM autoencoder (Chong & Tay 2017) + skip-frame pseudo anomalies",
)
