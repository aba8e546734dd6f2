"""What the declared recipes of every family share: the datasets, frame sizes and budgets.

A family's ``recipes.py`` starts from these, so that two families differ only in what is their
own. Each choice was fixed before test labels were looked at (the family READMEs say how).
"""

# The real data beside the project (UCSD Ped2, UCF-101 clips, Weizmann strips, dev/ped1): the one
# place this default lives.
SHARED_DATA = "../shared/data"

# The embedded synthetic walkway (the main job, about 70 s of training on 2 cores).
SYNTHETIC = {
    "dataset": "synthetic",
    "data_root": "data",
    "size": (64, 96),
    "epochs": 3,
    "window_stride": 3,
    "average_epochs": 0,
}
# UCSD at 128x192 for 20 epochs or 50 minutes, whichever ends first. Training windows are read
# from a uint8 file in the run folder, not memory (`cache`): batch for batch the same, as fast,
# and the UCSD GAN's 3,000 dev/ped1 frames (both motion kinds) out of its resident memory.
UCSD = {
    "dataset": "ped2",
    "data_root": SHARED_DATA,
    "size": (128, 192),
    "epochs": 20,
    "max_minutes": 50,
    "cache": True,
}
# Real motion (UCF-101 clips and Weizmann strips, `regularity.data.motion`), in colour at 64x64
# (the strips' size), every 2nd frame ("selection at an interval").
MOTION = {
    "dataset": "motion",
    "data_root": SHARED_DATA,
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

# The frame predictors (Liu et al. 2018): 4 grey frames in, the next out, scaled to [-1, 1],
# L2 + gradient-difference loss with Liu et al.'s weights (1, 1), scored by PSNR, unsmoothed.
# Chosen on dev/ped1: PSNR against the error-map sums and worst patches, and no smoothing
# against 5-25 frames; k, frame size and weights were fixed, not varied.
PREDICTION = {
    "window": {"target": "next", "inputs": 4},
    "scaling": "symmetric",
    "batch_size": 4,
    "intensity_weight": 1.0,
    "gradient_weight": 1.0,
    "motion_weight": 0.0,
    "score": {"measure": "psnr", "smooth_window": 1},
}
# A predictor on UCSD: every 2nd window, weights averaged over about an epoch, bf16.
PREDICTION_UCSD = {
    **PREDICTION,
    **UCSD,
    "window_stride": 2,
    "average_epochs": 1,
    "dtype_policy": "mixed_bfloat16",
}


def dev_set(recipe: dict) -> dict:
    """The labelled development set (part of UCSD Ped1): a Ped2 recipe, unchanged, on it."""
    return {**recipe, "dataset": "ped1", "data_root": f"{SHARED_DATA}/dev"}
