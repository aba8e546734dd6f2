"""Adversarial families on `regularity`, one folder each.

``ucsd/`` the ConvLSTM autoencoder GAN (ALOCC-style, on noisy normal clips), ``unet/`` Liu et
al. 2018's U-Net predictor (with its optional frame discriminator), ``multiscale/`` the
multi-scale GAN predictor (Mathieu et al. 2016), ``ocr/`` OCR-GAN Video (dual-frequency
streams, channel selection, temporal attention).
"""

import regularity  # noqa: F401  (first: it sets TensorFlow's log level before keras loads it)
