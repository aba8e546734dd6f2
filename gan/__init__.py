"""Adversarial families on `regularity`.

The ConvLSTM autoencoder GAN (ALOCC-style, on noisy normal clips), the multi-scale GAN frame
predictor (Mathieu et al. 2016) and OCR-GAN Video (dual-frequency streams, channel selection,
temporal attention).
"""

import regularity  # noqa: F401  (first: it sets TensorFlow's log level before keras loads it)
from convlstm_ae.model import add_encoder, deconv
from gan.model import AdversarialAutoencoder, create_discriminator, create_generator
from gan.recipes import RECIPES
from gan.train import GanConfig, UCSDGanTrainer, create_networks
from regularity.families import Family

__all__ = [
    "AdversarialAutoencoder",
    "GanConfig",
    "MultiscaleConfig",
    "OCRConfig",
    "UCSDGanTrainer",
    "add_encoder",
    "create_discriminator",
    "create_generator",
    "create_multiscale",
    "create_networks",
    "create_ocr_gan",
    "deconv",
]

FAMILY = Family(
    "gan",
    GanConfig,
    create_networks,
    RECIPES,
    "ConvLSTM AE generator vs discriminator on noisy clips (ALOCC-style)",
)

from gan.predict import MultiscaleConfig, create_multiscale  # noqa: E402

MULTISCALE_FAMILY = Family(
    "multiscale_gan",
    MultiscaleConfig,
    create_multiscale,
    MultiscaleConfig.recipes,
    "Multi-scale GAN next-frame predictor, L2 + GDL + adversarial (Mathieu et al. 2016)",
)

from gan.ocr import OCRConfig, create_ocr_gan  # noqa: E402

OCR_FAMILY = Family(
    "ocr_gan",
    OCRConfig,
    create_ocr_gan,
    OCRConfig.recipes,
    "OCR-GAN Video: Laplacian/residual streams, channel selection, temporal attention",
)
