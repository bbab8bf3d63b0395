# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Show what the teacher teaches on one image.

    python tools/analysis_tools/vis_teacher.py CONFIG CHECKPOINT IMAGE
        [--ann-file A.json] [--out teacher.png] [--cfg-options ...]

For each FPN level: the image with its GT boxes, the student's map and the
teacher's map as the distillation loss sees them (after the adapter and the
instance norm; channel-reduced by the L2 norm), and each location's share of
the Jensen-Shannon divergence (summed over channels). The teacher needs the
image's GT boxes: IMAGE must be in the annotation file (default: the
config's val annotations; with --ann-file, the config's image prefix is
taken under the annotation file's folder).
"""
import os.path as osp
import sys

import torch
from mmengine.dataset import pseudo_collate

from mmdet_sssd.utils import model_tool_parser


def parse_args():
    parser = model_tool_parser(__doc__)
    parser.add_argument('image', help='image path (or file name) in the '
                        'annotation file')
    parser.add_argument('--ann-file', help='COCO json with the image')
    parser.add_argument('--out', default='teacher.png')
    return parser.parse_args()


def js_per_location(student, teacher, axis, tau):
    """(C, H, W) maps -> (H, W) contribution to D_JS, summed over C."""
    from mmdet_sssd.models.losses import js_terms
    dim = 1 if axis == 'spatial' else 0
    terms = js_terms(student.flatten(1), teacher.flatten(1), dim, tau)
    return terms.sum(0).view(student.shape[1:])


def main():
    args = parse_args()
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from mmdet.registry import DATASETS

    from mmdet_sssd.models.distill.feature_loss import instance_norm
    from mmdet_sssd.utils import load_model

    # the val GT is resized with the image (the teacher's config)
    cfg, model, _ = load_model(args.config, args.checkpoint,
                               args.cfg_options, teacher=True)
    model.eval()

    dataset_cfg = cfg.val_dataloader.dataset.copy()
    if args.ann_file:
        # images are looked up under the annotation file's folder
        dataset_cfg.ann_file = osp.abspath(args.ann_file)
        dataset_cfg.data_root = osp.dirname(dataset_cfg.ann_file)
    dataset = DATASETS.build(dataset_cfg)
    name = osp.basename(args.image)
    index = next((i for i in range(len(dataset))
                  if osp.basename(dataset.get_data_info(i)['img_path']) ==
                  name), None)
    if index is None:
        sys.exit(f'{name} is not in {dataset.ann_file}; the teacher needs '
                 f'its GT boxes: pass --ann-file with this image')
    data = model.data_preprocessor(pseudo_collate([dataset[index]]), False)
    samples = data['data_samples']

    with torch.no_grad():
        feats = model.student.extract_feat(data['inputs'])
        teacher = model.teacher(feats, samples)
        term = model.label_term
        loss = term.feat_loss
        axis, tau = getattr(loss, 'axis', 'spatial'), getattr(loss, 'tau', 1.)
        rows = []
        for s, t in zip(feats, teacher):
            if term.adapter is not None:
                s = term.adapter(s)
            s, t = instance_norm(s)[0], instance_norm(t)[0]
            rows.append((s.norm(dim=0), t.norm(dim=0),
                         js_per_location(s, t, axis, tau)))

    img = data['inputs'][0]
    mean = torch.tensor(model.data_preprocessor.mean).view(-1, 1, 1)
    std = torch.tensor(model.data_preprocessor.std).view(-1, 1, 1)
    img = (img * std + mean).clamp(0, 255).permute(1, 2, 0) / 255
    boxes = samples[0].gt_instances.bboxes
    boxes = getattr(boxes, 'tensor', boxes).numpy()
    pad_h, pad_w = samples[0].batch_input_shape

    fig, axes = plt.subplots(len(rows), 4, figsize=(12, 3 * len(rows)),
                             squeeze=False)
    titles = ['image + GT', 'student |S|', 'teacher |T|', 'JS share']
    for lvl, maps in enumerate(rows):
        panels = [img.numpy()] + [m.numpy() for m in maps]
        for col, panel in enumerate(panels):
            ax = axes[lvl, col]
            h, w = panel.shape[:2]
            ax.imshow(panel, cmap=None if col == 0 else 'viridis')
            for x1, y1, x2, y2 in boxes:
                sx, sy = w / pad_w, h / pad_h
                ax.add_patch(Rectangle((x1 * sx - .5, y1 * sy - .5),
                                       (x2 - x1) * sx, (y2 - y1) * sy,
                                       fill=False, color='red', lw=1))
            ax.set_title(f'P{lvl}: {titles[col]}' if col else titles[0],
                         fontsize=9)
            ax.axis('off')
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    print(f'-> {args.out}')


if __name__ == '__main__':
    main()
