"""The ConvLSTM autoencoder GAN (ALOCC-style): generator vs discriminator on noisy normal clips."""

from gan.ucsd.config import GanConfig, create_networks
from gan.ucsd.network import AdversarialAutoencoder, create_discriminator, create_generator
from regularity.run.families import Family

__all__ = [
    "FAMILY",
    "AdversarialAutoencoder",
    "GanConfig",
    "create_discriminator",
    "create_generator",
    "create_networks",
]

FAMILY = Family(
    "gan",
    GanConfig,
    create_networks,
    "ConvLSTM AE generator vs discriminator on noisy clips (ALOCC-style)",
)
