"""Neural building blocks shared by every deep method."""

from .modules import (  # noqa: F401
    ConvDecoder,
    ConvEncoder,
    Critic,
    MLPDecoder,
    MLPEncoder,
    grad_reverse,
    grl_coefficient,
    make_decoder,
    make_encoder,
    nhwc,
    nhwc_input,
    sample_z,
    student_t,
)
