"""OCR-GAN Video: Laplacian/residual streams, channel selection, temporal attention."""

from gan.ocr.config import OCRConfig, create_ocr_gan
from regularity.run.families import Family

__all__ = ["FAMILY", "OCRConfig", "create_ocr_gan"]

FAMILY = Family(
    "ocr_gan",
    OCRConfig,
    create_ocr_gan,
    "OCR-GAN Video: Laplacian/residual streams, channel selection, temporal attention; next frame"
    " + flow per cell on UCSD",
)
