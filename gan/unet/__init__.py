"""Liu et al. 2018's U-Net next-frame predictor, its optional frame discriminator, PSNR score."""

from gan.unet.config import UNetConfig, create_unet_predictor
from gan.unet.network import build_frame_discriminator, build_unet_predictor
from regularity.run.families import Family

__all__ = [
    "FAMILY",
    "UNetConfig",
    "build_frame_discriminator",
    "build_unet_predictor",
    "create_unet_predictor",
]

FAMILY = Family(
    "unet_predictor",
    UNetConfig,
    create_unet_predictor,
    "U-Net next-frame predictor, PSNR score + flow per cell on UCSD (Liu et al. 2018)",
)
