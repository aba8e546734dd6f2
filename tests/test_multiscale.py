"""The multi-scale predictor's networks (Mathieu et al. 2016): scales, stages, any frame size."""

import numpy as np
import pytest

from gan.multiscale import build_multiscale_discriminator, build_multiscale_generator

TINY_G = (((4,), (3, 3)), ((4,), (3, 3)), ((4,), (3, 3)), ((4,), (3, 3)))
TINY_D = (((4,), (3,), (8,)), ((4,), (3,), (8,)), ((4,), (3,), (8,)), ((4,), (3,), (8,)))


def test_one_prediction_per_scale_coarsest_first():
    generator = build_multiscale_generator(4, 3, (16, 4, 2, 1), TINY_G)
    outputs = generator(np.zeros((2, 64, 64, 12), "float32"))
    assert [tuple(o.shape) for o in outputs] == [
        (2, 4, 4, 3), (2, 16, 16, 3), (2, 32, 32, 3), (2, 64, 64, 3)
    ]  # fmt: skip


def test_each_stage_sees_the_previous_prediction_upsampled():
    generator = build_multiscale_generator(4, 3, (16, 4, 2, 1), TINY_G)
    for scale in (2, 3, 4):
        upsampled = generator.get_layer(f"g{scale}_upsampled")
        assert upsampled.input.name == generator.get_layer(f"g{scale - 1}_prediction").output.name
        joined = generator.get_layer(f"g{scale}_with_previous").input
        assert any(t.name == upsampled.output.name for t in joined)
    assert "g1_upsampled" not in [layer.name for layer in generator.layers]


def test_trained_on_patches_it_predicts_a_whole_frame():
    generator = build_multiscale_generator(2, 1, (4, 2, 1), TINY_G[:3])
    patch = generator(np.zeros((1, 32, 32, 2), "float32"))[-1]
    frame = generator(np.zeros((1, 128, 192, 2), "float32"))[-1]  # the same weights
    assert patch.shape == (1, 32, 32, 1) and frame.shape == (1, 128, 192, 1)


def test_the_discriminator_gives_one_logit_per_scale():
    discriminator = build_multiscale_discriminator((32, 32), 4, 3, (8, 4, 2, 1), TINY_D)
    stacked = np.zeros((2, 32, 32, 12), "float32")
    nexts = [np.zeros((2, 32 // d, 32 // d, 3), "float32") for d in (8, 4, 2, 1)]
    assert [tuple(o.shape) for o in discriminator([stacked, *nexts])] == [(2, 1)] * 4


def test_scales_must_fall_to_full_size():
    with pytest.raises(ValueError, match="divisors must fall to 1"):
        build_multiscale_generator(4, 3, (1, 2, 4, 16), TINY_G)
    with pytest.raises(ValueError, match="3 scales but 4 stages"):
        build_multiscale_generator(4, 3, (4, 2, 1), TINY_G)
