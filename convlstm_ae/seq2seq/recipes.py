"""Declared recipe of the ConvLSTM seq2seq predictor: 4 frames in, the 4 that follow out."""

from regularity.run.recipes import MOTION, PREDICTION

SEQ2SEQ_RECIPES: dict[str, dict] = {
    "motion": {
        **PREDICTION,
        **MOTION,
        "model": "seq2seq_predictor",
        "window": {"target": "future", "inputs": 4, "outputs": 4, "skip": 2},
    },
}
