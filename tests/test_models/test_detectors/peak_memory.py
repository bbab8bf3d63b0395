# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Prints the peak RSS (MB) of two train steps on two 256x256 images with
a given number of objects each, of the SSSD-distilled or the plain tiny
RetinaNet: ``python peak_memory.py NUM_OBJECTS [sssd|plain]``."""
import resource
import sys

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import register_all_modules
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing import tiny_detector_cfg

register_all_modules()
torch.manual_seed(0)
num = int(sys.argv[1])
detector = tiny_detector_cfg('retinanet/retinanet_r50_fpn_1x_coco.py',
                             num_classes=10)
if sys.argv[2:] == ['plain']:
    model = MODELS.build(detector)
else:
    model = MODELS.build(dict(type='SSSDDistiller', detector=detector))
optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
size = 256
samples = []
for _ in range(2):
    xy = torch.rand(num, 2) * (size - 8)
    wh = 2 + torch.rand(num, 2) * 40
    sample = DetDataSample(metainfo=dict(
        img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size),
        scale_factor=(1., 1.), batch_input_shape=(size, size)))
    sample.gt_instances = InstanceData(
        bboxes=torch.cat([xy, (xy + wh).clamp(max=size)], 1),
        labels=torch.randint(0, 10, (num, )))
    samples.append(sample)
data = dict(inputs=[torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
                    for _ in samples], data_samples=samples)
for _ in range(2):
    losses = model.train_step(data, optim)
assert all(torch.isfinite(v) for v in losses.values())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
