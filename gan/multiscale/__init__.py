"""The multi-scale GAN next-frame predictor (Mathieu et al. 2016): L2 + GDL + adversarial."""

from gan.multiscale.config import MultiscaleConfig, create_multiscale
from regularity.run.families import Family

__all__ = ["FAMILY", "MultiscaleConfig", "create_multiscale"]

FAMILY = Family(
    "multiscale_gan",
    MultiscaleConfig,
    create_multiscale,
    "Multi-scale GAN next-frame predictor, L2 + GDL + adversarial (Mathieu et al. 2016)",
)
