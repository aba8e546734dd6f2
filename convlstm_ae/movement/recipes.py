"""Declared recipes of the movement matcher.

Windows of S = 9 frames predicting their successors, VGG16 cut after block 3 (this machine
cannot download ImageNet weights: from scratch, ``weights`` None), two phases, L2 + (1 - SSIM).
The synthetic figures: 30 clips of each movement, the last 6 held out for testing, 1 more for
the threshold. Chosen on the synthetic clips only.
"""

from regularity.run.recipes import SHARED_DATA

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
        "data_root": SHARED_DATA,
        "color": "rgb",
        "dataset_options": {"normal": "wave1", "holdout": 3},
        "window": {"target": "shifted", "inputs": 9, "skip": 2},
        "window_stride": 2,
    },
}
