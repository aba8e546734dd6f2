"""Declared recipes of the ConvLSTM autoencoder: the one place its defaults live.

The notebooks, the benchmark and the leaderboard read these; a field a user passes overrides
the recipe's. Each recipe was fixed before its test labels were looked at (see
``docs/convlstm_ae.md`` for how each choice was made).
"""

# What every recipe shares: 10-frame windows of grey frames + |I_t - I_{t-1}|, stride-1 windows
# of which 1 in 5 jump 2-5 frames and must come out as the normal window (Astrid et al. 2021),
# bf16, and e(t) = grey-level error of the motion channel, summed.
_SHARED = {
    "window": {"target": "same", "inputs": 10},
    "motion": True,
    "batch_size": 4,
    "skips": (1,),
    "pseudo_anomaly_rate": 0.2,
    "dtype_policy": "mixed_bfloat16",
    "score": {"aggregate": "sum", "scale": "grey", "channels": "motion"},
}

# The data and budget every family's recipes share: the embedded synthetic walkway (the main
# job, about 70 s of training on 2 cores), and UCSD at 128x192 for 20 epochs or 50 minutes,
# whichever ends first.
_SYNTHETIC = {
    "dataset": "synthetic",
    "data_root": "data",
    "size": (64, 96),
    "epochs": 3,
    "window_stride": 3,
    "average_epochs": 0,
}
_UCSD = {
    "dataset": "ped2",
    "data_root": "../shared/data",
    "size": (128, 192),
    "epochs": 20,
    "max_minutes": 50,
}


def dev_set(recipe: dict) -> dict:
    """The labelled development set (part of UCSD Ped1): a Ped2 recipe, unchanged, on it."""
    return {**recipe, "dataset": "ped1", "data_root": "../shared/data/dev"}


RECIPES: dict[str, dict] = {
    "synthetic": {**_SHARED, **_SYNTHETIC},
    # The declared UCSD recipe: weights averaged over ~3 epochs.
    "ped2": {**_SHARED, **_UCSD, "window_stride": 4, "average_epochs": 3},
}
RECIPES["ped1"] = dev_set(RECIPES["ped2"])

# The frame predictors (Liu et al. 2018): 4 grey frames in, the next out, scaled to [-1, 1],
# L2 + gradient-difference loss with Liu et al.'s weights (1, 1), scored by PSNR, unsmoothed.
# Chosen on dev/ped1 (docs/prediction.md): PSNR against the error-map sums and worst patches,
# and no smoothing against 5-25 frames; k, frame size and weights were fixed, not varied.
_PREDICTION = {
    "model": "unet_predictor",
    "window": {"target": "next", "inputs": 4},
    "scaling": "symmetric",
    "batch_size": 4,
    "intensity_weight": 1.0,
    "gradient_weight": 1.0,
    "motion_weight": 0.0,
    "score": {"measure": "psnr", "smooth_window": 1},
}
UNET_RECIPES: dict[str, dict] = {
    "synthetic": {**_PREDICTION, **_SYNTHETIC, "filters": (16, 32, 64, 128)},
    "ped2": {
        **_PREDICTION,
        **_UCSD,
        "window_stride": 2,
        "average_epochs": 1,
        "dtype_policy": "mixed_bfloat16",
    },
}
UNET_RECIPES["ped1"] = dev_set(UNET_RECIPES["ped2"])

# Real motion (UCF-101 clips and Weizmann strips, `regularity.datasets.motion`), in colour at
# 64x64 (the strips' size), every 2nd frame ("selection at an interval").
_MOTION = {
    "dataset": "motion",
    "data_root": "../shared/data",
    "dataset_options": {"min_motion": 2.0, "test_every": 4},
    "color": "rgb",
    "size": (64, 64),
    "scaling": "symmetric",
    "batch_size": 8,
    "window_stride": 1,
    "epochs": 20,
    "max_minutes": 10,
    "average_epochs": 0,
    "val_clips": 2,
}
UNET_RECIPES["motion"] = {
    **_PREDICTION,
    **_MOTION,
    "window": {"target": "next", "inputs": 4, "skip": 2},
}
SEQ2SEQ_RECIPES: dict[str, dict] = {
    "motion": {
        **_PREDICTION,
        **_MOTION,
        "model": "seq2seq_predictor",
        "window": {"target": "future", "inputs": 4, "outputs": 4, "skip": 2},
    },
}

# The movement matcher (issue 20): windows of S = 9 frames predicting their successors, VGG16
# cut after block 3 (this machine cannot download ImageNet weights: from scratch, `weights`
# None), two phases, L2 + (1 - SSIM). The synthetic figures: 30 clips of each movement, the
# last 6 held out for testing, 1 more for the threshold. Chosen on the synthetic clips only.
_MOVEMENT = {
    "model": "movement_matcher",
    "size": (64, 64),
    "scaling": "unit",
    "window": {"target": "shifted", "inputs": 9},
    "backbone": "vgg16",
    "weights": None,
    "batch_size": 4,
    "epochs": 8,
    "head_epochs": 3,
    "max_minutes": 10,
    "val_clips": 1,
    "thresholds_from": "held_out",
}
MOVEMENT_RECIPES: dict[str, dict] = {
    "figures": {
        **_MOVEMENT,
        "dataset": "figures",
        "data_root": "data",
        "color": "grey",
        "dataset_options": {"normal": "wave", "clips_per_movement": 30, "holdout": 6},
    },
    # Weizmann strips (4 movements x 9 performers, one file each): the last 3 files of every
    # movement held out for testing (performer-disjoint), 1 of the trained movement's other 6
    # for the threshold, every 2nd frame.
    "weizmann": {
        **_MOVEMENT,
        "dataset": "strips",
        "data_root": "../shared/data",
        "color": "rgb",
        "dataset_options": {"normal": "wave1", "holdout": 3},
        "window": {"target": "shifted", "inputs": 9, "skip": 2},
        "window_stride": 2,
    },
}
