"""The movement matcher: windows predict their successors; SSIM says if a clip performs it."""

from convlstm_ae.movement.config import MovementConfig, create_movement_model
from convlstm_ae.movement.matching import does_it_perform, match_run
from regularity.run.families import Family

__all__ = ["FAMILY", "MovementConfig", "create_movement_model", "does_it_perform", "match_run"]

FAMILY = Family(
    "movement_matcher",
    MovementConfig,
    create_movement_model,
    "Movement matcher: a keras.applications backbone + ConvLSTM predicting each frame's successor",
    match=does_it_perform,
)
