# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Training overhead of SSSD over the plain student, measured side by side.

    python tools/benchmark_overhead.py [--iters 3] [--size 512] [--batch 2]

For RetinaNet, FCOS and Faster R-CNN R-50 (stock configs, random init,
512x512, batch 2, CPU by default) it runs the plain student and its
SSSDDistiller on the same inputs, each in a fresh process, and prints:
train iteration time, peak resident memory of the process, their ratios, and
the share of the student's iteration time spent in the teacher's own modules
(LabelEncoderTeacher forward + backward) and in the student-side adapter.
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

DETECTORS = {
    'RetinaNet R-50': 'retinanet/retinanet_r50_fpn_1x_coco.py',
    'FCOS R-50': 'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'Faster R-CNN R-50': 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=3,
                        help='timed iterations after one warm-up')
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--detectors', nargs='+', default=list(DETECTORS))
    parser.add_argument(
        '--lgd-widths', action='store_true',
        help='also measure LGD\'s widths: 256-channel teacher convs and a '
        '3x3 adapter')
    parser.add_argument('--worker', nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def worker(args, config, mode):
    """One (detector, mode) measurement in this process; prints JSON."""
    import torch
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs
    from mmdet.utils import register_all_modules
    from mmengine.logging import MessageHub

    import mmdet_sssd  # noqa: F401
    from mmdet_sssd.testing import get_stock_config
    register_all_modules()
    MessageHub.get_current_instance().update_info('iter', 1000)
    torch.manual_seed(0)
    model_cfg = get_stock_config(config).model
    model_cfg.backbone.init_cfg = None  # random init: no download
    if mode == 'sssd':
        model_cfg = dict(type='SSSDDistiller', detector=model_cfg)
    elif mode == 'sssd-lgd-widths':
        model_cfg = dict(
            type='SSSDDistiller',
            detector=model_cfg,
            teacher=dict(type='LabelEncoderTeacher', feat_channels=256),
            adapter=dict(num_convs=3, kernel_size=3))
    model = MODELS.build(model_cfg).to(args.device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    packed = demo_mm_inputs(
        args.batch, [[3, args.size, args.size]] * args.batch,
        num_items=[5] * args.batch, num_classes=80)

    def sync():
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()

    times = []
    for i in range(args.iters + 1):
        data = model.data_preprocessor(packed, True)
        sync()
        start = time.perf_counter()
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sync()
        if i:  # the first iteration warms up allocators and caches
            times.append(time.perf_counter() - start)

    result = dict(iter_s=sum(times) / len(times))
    if mode != 'student':
        # The teacher's and the adapter's own forward + backward, timed
        # alone on the same maps.
        with torch.no_grad():
            feats = [f.detach() for f in model.student.extract_feat(
                data['inputs'])]
        for name, fn in [
            ('teacher_s', lambda x: model.teacher(x, data['data_samples'])),
            ('adapter_s', lambda x: [model.adapter(f) for f in x]),
        ]:
            spent = []
            for i in range(args.iters + 1):
                x = [f.clone().requires_grad_() for f in feats]
                sync()
                start = time.perf_counter()
                sum(o.float().mean() for o in fn(x)).backward()
                sync()
                if i:
                    spent.append(time.perf_counter() - start)
            result[name] = sum(spent) / len(spent)
    if args.device.startswith('cuda'):
        result['peak_mb'] = torch.cuda.max_memory_allocated() / 2**20
    else:
        result['peak_mb'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024
    print('RESULT ' + json.dumps(result))


def main():
    args = parse_args()
    if args.worker:
        return worker(args, *args.worker)
    import torch
    device = args.device
    if device == 'cpu':
        machine = f'CPU, {torch.get_num_threads()} threads'
    else:
        machine = torch.cuda.get_device_name(device)
    print(f'# SSSD vs plain student: {args.size}x{args.size}, batch '
          f'{args.batch}, {args.iters} timed iterations, {machine}, '
          f'torch {torch.__version__}')
    header = ('| detector | student s/iter | SSSD s/iter | time ratio | '
              'student peak MB | SSSD peak MB | memory ratio | '
              'teacher share | adapter share |')
    print(header)
    print('|' + '---|' * header.count(' | ') + '---|')
    modes = ['student', 'sssd'] + ['sssd-lgd-widths'] * args.lgd_widths
    for name in args.detectors:
        res = {}
        for mode in modes:
            cmd = [sys.executable, __file__, '--worker', DETECTORS[name],
                   mode, '--iters', str(args.iters), '--size',
                   str(args.size), '--batch', str(args.batch), '--device',
                   device]
            out = subprocess.run(cmd, capture_output=True, text=True)
            lines = [l for l in out.stdout.splitlines()
                     if l.startswith('RESULT ')]
            if out.returncode or not lines:
                sys.exit(f'{name} ({mode}) failed:\n{out.stderr[-3000:]}')
            res[mode] = json.loads(lines[-1][7:])
        s = res['student']
        for mode in modes[1:]:
            d = res[mode]
            label = name + (' (LGD widths)' if 'lgd' in mode else '')
            print(f"| {label} | {s['iter_s']:.3f} | {d['iter_s']:.3f} | "
                  f"{d['iter_s'] / s['iter_s']:.2f} | {s['peak_mb']:.0f} | "
                  f"{d['peak_mb']:.0f} | {d['peak_mb'] / s['peak_mb']:.2f} | "
                  f"{d['teacher_s'] / s['iter_s']:.1%} | "
                  f"{d['adapter_s'] / s['iter_s']:.1%} |", flush=True)


if __name__ == '__main__':
    main()
