"""The ConvLSTM autoencoder as a family of the run pipeline: its config and builder.

``train_run(AEConfig.recipe("ped2"))`` holds out normal clips, fits the scaling on the
rest, streams 10-frame windows (temporal strides 1, 2 and 3 as normal data, or stride 1 with
skip-frame pseudo anomalies the model must not reproduce), trains with checkpoints and resume,
and derives the red-dot and frame thresholds from normal clips: `regularity.run.pipeline.train_run`
does all of it; this module says only what is the autoencoder's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras

from convlstm_ae.autoencoder.network import PAPER_FILTERS, build_convlstm_ae
from convlstm_ae.autoencoder.recipes import RECIPES
from regularity.data.preprocess import Scaling
from regularity.nets.blocks import OUTPUT_ACTIVATION, frame_padding
from regularity.run.config import RunConfig
from regularity.run.training import weight_averaging


@dataclass
class AEConfig(RunConfig):
    """The shared run config plus the autoencoder's own fields."""

    recipes: ClassVar[dict[str, dict]] = RECIPES  # a subclass's family declares its own

    model: str = "convlstm_ae"
    run_dir: str = "runs/convlstm_ae"
    skips: tuple[int, ...] = (1, 2, 3)  # Chong & Tay's temporal strides, all normal
    filters: tuple[int, ...] = PAPER_FILTERS
    normalization: str | None = "layer"

    def validate(self) -> None:
        """Frame size and normalisation, checked before any data is loaded."""
        frame_padding(*self.size)
        self.filters = tuple(self.filters)
        if self.normalization not in ("layer", "batch", None):
            raise ValueError(
                f"normalization must be 'layer', 'batch' or None, not {self.normalization!r}"
            )


def create_networks(config: AEConfig, input_shape: tuple, steps_per_epoch: int = 1) -> keras.Model:
    """The compiled autoencoder for ``config`` (MSE on the input scale, Adam).

    ``steps_per_epoch`` turns ``config.average_epochs`` into the moving average's momentum.
    """
    model = build_convlstm_ae(
        input_shape,
        filters=tuple(config.filters),
        normalization=config.normalization,
        output_activation=OUTPUT_ACTIVATION[Scaling(config.scaling)],
        dtype_policy=config.dtype_policy,
    )
    optimizer = keras.optimizers.Adam(
        config.learning_rate,
        clipnorm=1.0,
        **weight_averaging(config.average_epochs, steps_per_epoch),
    )
    model.compile(optimizer=optimizer, loss="mse")
    return model
