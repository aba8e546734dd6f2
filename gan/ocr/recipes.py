"""Declared recipes of OCR-GAN Video."""

from regularity.run.recipes import SHARED_DATA, dev_set

# "paper": the configuration the design reports (64x64, T = 16,
# batch 16, one epoch) on its disjoint 16-frame snippets (window stride 16). "reconstruction":
# the design's model as first declared: 64x96 (UCSD's 2:3 kept), overlapping windows (stride 4),
# as many epochs as 25 minutes of 2 CPU cores allow; loss weights, noise and score weights the
# design's defaults (OCRConfig); nothing tuned on test labels (docs/ocr_gan.md).
_OCR = {"model": "ocr_gan", "scaling": "symmetric", "window": {"target": "same", "inputs": 16},
        "average_epochs": 0, "score": {"frame_score": "ocr"}}  # fmt: skip
OCR_RECIPES: dict[str, dict] = {
    "synthetic": {
        **_OCR,
        "dataset": "synthetic",
        "data_root": "data",
        "size": (64, 96),
        "batch_size": 4,
        "window_stride": 8,
        "epochs": 3,
    },  # fmt: skip
    "paper": {
        **_OCR,
        "dataset": "ped2",
        "data_root": SHARED_DATA,
        "size": (64, 64),
        "batch_size": 16,
        "window_stride": 16,
        "epochs": 1,
    },  # fmt: skip
    "reconstruction_ped2": {
        **_OCR,
        "dataset": "ped2",
        "data_root": SHARED_DATA,
        "size": (64, 96),
        "batch_size": 8,
        "window_stride": 4,
        "epochs": 40,
        "max_minutes": 25,
    },  # fmt: skip
}
# Declared since issue 30: the next-frame variant, the same networks and budget reading frames
# t-15..t to give frame t+1; one training window in five jumps frames (the other predictors'
# setting, Astrid et al.'s for 16 frames); scored as the U-Net is, its PSNR smoothed over 15
# frames plus the flow per cell, both standardised on the normal clips. Chosen on dev/ped1 by a
# rule fixed before two seeds (docs/experiments.md). Since 2026-12-07 it reads 8 frames, not 16:
# >= 60 frames/s scoring on two cores (73.6-74.7 against 42-45), no figure more than 0.010
# below the 16-frame runs on two dev/ped1 seeds, by a rule fixed before they ran (docs).
OCR_RECIPES["ped2"] = {
    **OCR_RECIPES["reconstruction_ped2"],
    "window": {"target": "next", "inputs": 8},
    "pseudo_anomaly_rate": 0.2,
    "score": {"frame_score": "", "measure": "psnr", "smooth_window": 15, "flow_weight": 1.0},
}  # fmt: skip
OCR_RECIPES["ped1"] = dev_set(OCR_RECIPES["ped2"])
OCR_RECIPES["reconstruction_ped1"] = dev_set(OCR_RECIPES["reconstruction_ped2"])
OCR_RECIPES["paper_ped1"] = dev_set(OCR_RECIPES["paper"])
