# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The label teacher's architecture by preset, option by option.

``'lgd'`` is LGD's reference teacher module for module
(docs/lgd_fidelity.md, which gives each row's source); ``'lite'`` is this
plugin's cheaper teacher (64-wide convs, no spatial transformers). A config
changes single rows with ``LabelEncoderTeacher(preset_overrides=dict(...))``,
which the fidelity tests and the ablations of docs/lgd_fidelity.md use.
"""
from typing import Optional

_PRESET_TABLE = [
    # option                 'lite'            'lgd'
    # width of the appearance and mapper convs; None: the FPN's width C
    ('feat_channels',        64,               None),
    # widths of the set encoder's per-object MLP
    ('encoder_channels',     (64, 128, 1024),  (64, 128, 1024)),
    ('num_heads',            8,                8),  # relation attention
    ('num_refine_convs',     2,                2),  # Conv3x3-GN-ReLU blocks
    # LGD's two T-Nets on the descriptor and on the 64-d features
    ('spatial_transformers', False,            True),
    # the whole descriptor, one-hot included, from [0, 1] to [-1, 1]
    ('signed_descriptor',    False,            True),
    # the context box: the padded batch input or the image
    ('context_extent',       'image',          'padded'),
    # non-affine LayerNorm + ReLU after the 1088 -> C projection
    ('label_norm',           False,            True),
    ('kv_norm_affine',       True,             False),
    # a Linear after appearance pooling (needed if feat_channels != C)
    ('appearance_fc',        True,             False),
    # the label embedding added to the attention's output
    ('relation_residual',    True,             False),
    ('separate_context_fc',  False,            True),
    # biases in the convs followed by a norm (GN(1) keeps them)
    ('conv_bias',            False,            True),
    # affine output GN (LGD's maps are unit-variance)
    ('out_norm_affine',      True,             False),
]
TEACHER_PRESETS = {
    name: {row[0]: row[i + 1] for row in _PRESET_TABLE}
    for i, name in enumerate(('lite', 'lgd'))
}


def resolve_preset(preset: str, overrides: Optional[dict],
                   feat_channels: Optional[int], in_channels: int) -> dict:
    """The preset's options with ``overrides`` applied and ``feat_channels``
    resolved to an int (given, else the preset's, else ``in_channels``)."""
    if preset not in TEACHER_PRESETS:
        raise ValueError(f'LabelEncoderTeacher: preset must be one of '
                         f'{sorted(TEACHER_PRESETS)}, got {preset!r}')
    opts = dict(TEACHER_PRESETS[preset])
    unknown = set(overrides or {}) - set(opts) | (
        {'feat_channels'} & set(overrides or {}))
    if unknown:
        raise ValueError(
            f'LabelEncoderTeacher: unknown preset_overrides {sorted(unknown)}'
            f'; they are {sorted(set(opts) - {"feat_channels"})} '
            f'(feat_channels is an argument of its own)')
    opts.update(overrides or {})
    if feat_channels is None:
        feat_channels = opts['feat_channels']
    opts['feat_channels'] = in_channels if feat_channels is None \
        else feat_channels
    if opts['context_extent'] not in ('padded', 'image'):
        raise ValueError(f'LabelEncoderTeacher: context_extent must be '
                         f"'padded' or 'image', got "
                         f"{opts['context_extent']!r}")
    if in_channels % opts['num_heads']:
        raise ValueError(f'LabelEncoderTeacher: in_channels ({in_channels}) '
                         f'must be divisible by num_heads '
                         f"({opts['num_heads']})")
    if not opts['appearance_fc'] and opts['feat_channels'] != in_channels:
        raise ValueError(
            f'LabelEncoderTeacher: without appearance_fc the pooled '
            f"appearance ({opts['feat_channels']} channels) is the attention "
            f'query ({in_channels}); set feat_channels={in_channels} or '
            f'preset_overrides=dict(appearance_fc=True)')
    return opts
