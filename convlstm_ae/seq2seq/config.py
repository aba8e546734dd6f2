"""The ConvLSTM seq2seq predictor's config, teacher forcing and builder, scored by PSNR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from convlstm_ae.seq2seq.network import build_seq2seq_predictor
from convlstm_ae.seq2seq.recipes import SEQ2SEQ_RECIPES
from regularity.data.preprocess import Scaling
from regularity.data.windows import Target, WindowSpec
from regularity.nets.blocks import OUTPUT_ACTIVATION
from regularity.nets.prediction import PredictionTrainer, PredictorConfig, compile_predictor


@dataclass
class Seq2SeqConfig(PredictorConfig):
    """The predictors' config for k frames in, the n that follow out (4 and 4 by default)."""

    recipes: ClassVar[dict[str, dict]] = SEQ2SEQ_RECIPES
    target: ClassVar[Target] = Target.FUTURE

    model: str = "seq2seq_predictor"
    run_dir: str = "runs/seq2seq_predictor"
    window: WindowSpec = WindowSpec(Target.FUTURE, inputs=4, outputs=4)
    seq2seq_filters: int = 64
    seq2seq_layers: int = 2

    def validate(self) -> None:  # noqa: D102
        super().validate()
        if self.seq2seq_layers < 1:
            raise ValueError("seq2seq_layers must be 1 or more")

    def batch_transform(self) -> object:
        """Teacher forcing: each target's previous frame goes in as well."""

        def teacher_forcing(inputs, targets, rng):  # noqa: ANN001, ANN202
            previous = np.concatenate([inputs[:, -1:], targets[:, :-1]], axis=1)
            return (inputs, previous), targets

        return teacher_forcing


def create_seq2seq_predictor(
    config: Seq2SeqConfig, input_shape: tuple, steps_per_epoch: int = 1
) -> PredictionTrainer:
    """The compiled trainer: the teacher-forced network, scored by its autoregressive twin."""
    network, scorer = build_seq2seq_predictor(
        input_shape,
        horizon=config.window.outputs,
        filters=config.seq2seq_filters,
        layers_count=config.seq2seq_layers,
        output_activation=OUTPUT_ACTIVATION[Scaling(config.scaling)],
    )
    trainer = PredictionTrainer(network, scorer, **config.loss_weights())
    return compile_predictor(trainer, config, steps_per_epoch)
