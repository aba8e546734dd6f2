"""Declared recipes of the UCSD GAN: the ConvLSTM autoencoder's recipes plus what is adversarial.

Its windows, frame size, pseudo anomalies and time budget are the autoencoder's (its generator
is that autoencoder), so that the two families differ only in what is adversarial: its
input and score too (both motion kinds, three views fused), moved there in issue 30 by a rule
fixed before its runs (two seeds on dev/ped1: docs/experiments.md).
The noise, loss weights and discriminator rate were fixed before any test label was read;
``ped1`` is the labelled development set.
"""

from convlstm_ae.autoencoder.recipes import RECIPES as AE_RECIPES

# ALOCC trains on Gaussian-noised inputs; 0.2 in the standardised input's units is 0.2 of each
# pixel's own training standard deviation (more grey levels where much moves, fewer where
# little). The adversarial weight is Liu et al.'s (0.05 against 1 for intensity).
_ADVERSARIAL = {
    "noise": "gaussian",
    "noise_level": 0.2,
    "reconstruction_weight": 1.0,
    "adversarial_weight": 0.05,
    "d_learning_rate": 1e-4,
}

RECIPES: dict[str, dict] = {name: {**recipe, **_ADVERSARIAL} for name, recipe in AE_RECIPES.items()}
