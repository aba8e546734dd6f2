"""The adversarial ConvLSTM autoencoder (ALOCC-style, on noisy normal clips) on `regularity`."""

import regularity  # noqa: F401  (first: it sets TensorFlow's log level before keras loads it)
from convlstm_ae.model import add_encoder, deconv
from gan.model import AdversarialAutoencoder, create_discriminator, create_generator
from gan.recipes import RECIPES
from gan.train import GanConfig, UCSDGanTrainer, create_networks
from regularity.families import Family

__all__ = [
    "AdversarialAutoencoder",
    "GanConfig",
    "UCSDGanTrainer",
    "add_encoder",
    "create_discriminator",
    "create_generator",
    "create_networks",
    "deconv",
]

FAMILY = Family(
    "gan",
    GanConfig,
    create_networks,
    RECIPES,
    "ConvLSTM AE generator vs discriminator on noisy clips (ALOCC-style)",
)
