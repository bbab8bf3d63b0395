# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Export the student of a distillation checkpoint as a stock mmdet model.

    python tools/model_converters/export_student.py CONFIG CHECKPOINT OUT.pth

Writes OUT.pth with the student's weights only (teacher, adapter and
optimizer state dropped; plain tensors, loadable with
``torch.load(weights_only=True)``) and OUT.py, the student's own config
without the plugin, e.g. for ``python mmdet/tools/test.py OUT.py OUT.pth``.
The student is rebuilt from the config and loaded strictly as a check.
"""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import CheckpointLoader

from mmdet_sssd import CrashSafeCheckpointHook
from mmdet_sssd.utils import (model_tool_parser, student_config,
                              student_state_dict)


def parse_args():
    parser = model_tool_parser(__doc__)
    parser.add_argument('out', help='output .pth path')
    return parser.parse_args()


def _stock_checkpoint_hook(cfg: Config) -> Config:
    """mmengine's own CheckpointHook in place of the plugin's
    CrashSafeCheckpointHook (same arguments), which stock mmdet lacks."""
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint and checkpoint.get('type') in ('CrashSafeCheckpointHook',
                                                 CrashSafeCheckpointHook):
        checkpoint.type = 'CheckpointHook'
    return cfg


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    checkpoint = CheckpointLoader.load_checkpoint(
        args.checkpoint, map_location='cpu')
    state_dict = student_state_dict(checkpoint)
    student_cfg = _stock_checkpoint_hook(student_config(cfg))

    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    student = MODELS.build(student_cfg.model)
    student.load_state_dict(state_dict, strict=True)

    out = args.out if args.out.endswith('.pth') else args.out + '.pth'
    meta = dict(
        source=osp.abspath(args.checkpoint),
        epoch=int(checkpoint.get('meta', {}).get('epoch', 0)),
        iter=int(checkpoint.get('meta', {}).get('iter', 0)))
    torch.save(dict(state_dict=state_dict, meta=meta), out)
    student_cfg.dump(osp.splitext(out)[0] + '.py')
    print(f'student of {type(student).__name__}: {len(state_dict)} tensors '
          f'-> {out}, config -> {osp.splitext(out)[0]}.py')


if __name__ == '__main__':
    main()
