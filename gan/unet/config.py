"""The U-Net predictor's config and builder (Liu et al. 2018), scored by PSNR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gan.unet.network import UNET_FILTERS, build_frame_discriminator, build_unet_predictor
from gan.unet.recipes import UNET_RECIPES
from regularity.data.preprocess import Scaling
from regularity.nets.blocks import OUTPUT_ACTIVATION
from regularity.nets.prediction import PredictionTrainer, PredictorConfig, compile_predictor


@dataclass
class UNetConfig(PredictorConfig):
    """The predictors' config plus the U-Net's levels and Liu et al.'s discriminator."""

    recipes: ClassVar[dict[str, dict]] = UNET_RECIPES

    model: str = "unet_predictor"
    run_dir: str = "runs/unet_predictor"
    filters: tuple[int, ...] = UNET_FILTERS  # the U-Net's levels
    d_filters: tuple[int, ...] = (64, 128, 256, 512)

    def validate(self) -> None:  # noqa: D102
        self.filters = tuple(self.filters)
        self.d_filters = tuple(self.d_filters)
        super().validate()

    def size_step(self) -> int:
        """The U-Net halves the frame once per level."""
        return 2 ** (len(self.filters) - 1)


def create_unet_predictor(
    config: UNetConfig, input_shape: tuple, steps_per_epoch: int = 1
) -> PredictionTrainer:
    """The compiled trainer (Adam; weights averaged as configured; Liu's D where weighted)."""
    network = build_unet_predictor(
        input_shape,
        filters=config.filters,
        output_activation=OUTPUT_ACTIVATION[Scaling(config.scaling)],
        dtype_policy=config.dtype_policy,
    )
    discriminator = None
    if config.adversarial_weight:
        discriminator = build_frame_discriminator(input_shape[1:], filters=config.d_filters)
    trainer = PredictionTrainer(
        network, network, discriminator=discriminator, **config.loss_weights()
    )
    return compile_predictor(trainer, config, steps_per_epoch)
