# Copyright (c) mmdet_sssd contributors. All rights reserved.
import copy
from typing import List


def load_gt_first(pipeline: List[dict]) -> List[dict]:
    """A copy of a test pipeline that loads the GT boxes right after the
    image, so that ``Resize`` and the other geometric transforms also move
    them into the network input's coordinates.

    The label teacher needs the GT of a test image in those coordinates;
    stock test pipelines load it after ``Resize`` (for the metric only), in
    the original image's. A missing ``LoadAnnotations`` is added.

    Args:
        pipeline (list[dict]): Transform configs; the first ``LoadImage*``
            loads the image.

    Returns:
        list[dict]: The reordered copy.
    """
    pipeline = [copy.deepcopy(t) for t in pipeline]
    loads = [t for t in pipeline if t.get('type') == 'LoadAnnotations']
    rest = [t for t in pipeline if t.get('type') != 'LoadAnnotations']
    image = next((i for i, t in enumerate(rest)
                  if str(t.get('type', '')).startswith('LoadImage')), None)
    if image is None:
        raise ValueError(f'load_gt_first: no LoadImage* transform in the '
                         f'pipeline {[t.get("type") for t in pipeline]}')
    gt = loads[0] if loads else dict(type='LoadAnnotations', with_bbox=True)
    gt['with_bbox'] = True
    return rest[:image + 1] + [gt] + rest[image + 1:]
