# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Training overhead of SSSD over the plain student, measured side by side.

    python tools/benchmark_overhead.py [--variants sssd lgd-widths head-off]
                                       [--iters 5] [--size 512] [--batch 2]

For RetinaNet, FCOS and Faster R-CNN R-50 (stock configs, random init,
512x512, batch 2, CPU by default) it trains the plain student and its
SSSDDistiller on the same inputs, alternating their iterations in one process
(median time), then measures each one's peak memory in a fresh process
(resident memory on CPU, allocated memory on CUDA), and prints the ratios and
the share of the student's iteration time spent in the teacher's own modules
(LabelEncoderTeacher forward + backward) and in the student-side adapter.
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

DETECTORS = {
    'RetinaNet R-50': 'retinanet/retinanet_r50_fpn_1x_coco.py',
    'FCOS R-50': 'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'Faster R-CNN R-50': 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
}


# name: (what it is, SSSDDistiller options)
VARIANTS = {
    'sssd': ('the defaults (the lite teacher, 1x1 adapter)', {}),
    'lgd': ('LGD\'s teacher (preset=\'lgd\') and 3x3 adapter, as in '
            'configs/sssd/ and configs/lgd/',
            dict(teacher=dict(preset='lgd'),
                 adapter=dict(num_convs=3, kernel_size=3))),
    'lgd-widths': ('the lite teacher at LGD\'s widths: 256-channel teacher '
                   'convs, 3x3 adapter',
                   dict(teacher=dict(type='LabelEncoderTeacher',
                                     feat_channels=256),
                        adapter=dict(num_convs=3, kernel_size=3))),
    'head-off': ('teacher_trains_head=False',
                 dict(teacher_trains_head=False)),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=5,
                        help='timed iterations of each model after one '
                        'warm-up; the median is reported')
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--detectors', nargs='+', default=list(DETECTORS))
    parser.add_argument(
        '--variants', nargs='+', default=['sssd'], choices=list(VARIANTS),
        help='distiller settings to measure against the student: '
        + '; '.join(f'{k}: {v[0]}' for k, v in VARIANTS.items()))
    parser.add_argument('--worker', nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def build(config, mode, device):
    from mmdet.registry import MODELS

    from mmdet_sssd.testing import get_stock_config
    model_cfg = get_stock_config(config).model
    model_cfg.backbone.init_cfg = None  # random init: no download
    if mode != 'student':
        model_cfg = dict(
            type='SSSDDistiller', detector=model_cfg, **VARIANTS[mode][1])
    model = MODELS.build(model_cfg)
    model.init_weights()  # as the runner does (RetinaNet's prior-prob bias)
    return model.to(device).train()


def worker(args, config, modes):
    """Measures (detector, modes) in this process and prints JSON.

    With one mode: its peak memory (the process holds nothing else). With
    several: their iteration times, interleaved (A B C A B C ...) so that
    any load on the machine hits all of them alike, and the median taken;
    plus the teacher's and adapter's own forward + backward.
    """
    import torch
    from mmdet.testing import demo_mm_inputs
    from mmdet.utils import register_all_modules
    from mmengine.logging import MessageHub

    import mmdet_sssd  # noqa: F401
    register_all_modules()
    MessageHub.get_current_instance().update_info('iter', 1000)
    modes = modes.split(',')
    torch.manual_seed(0)
    models = {m: build(config, m, args.device) for m in modes}
    optimizers = {
        m: torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        for m, model in models.items()
    }
    packed = demo_mm_inputs(
        args.batch, [[3, args.size, args.size]] * args.batch,
        num_items=[5] * args.batch, num_classes=80)

    def sync():
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()

    def timed(fn):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - start

    def train_step(mode):
        model = models[mode]
        data = model.data_preprocessor(packed, True)
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optimizers[mode].zero_grad()
        loss.backward()
        optimizers[mode].step()

    iters = 1 if len(modes) == 1 else args.iters
    times = {m: [] for m in modes}
    for i in range(iters + 1):
        for mode in modes:
            spent = timed(lambda: train_step(mode))
            if i:  # the first iteration warms up allocators and caches
                times[mode].append(spent)
    result = {m: dict(iter_s=statistics.median(t)) for m, t in times.items()}
    for mode in modes:
        if mode == 'student':
            continue
        model = models[mode]
        data = model.data_preprocessor(packed, True)
        with torch.no_grad():
            feats = [f.detach() for f in model.student.extract_feat(
                data['inputs'])]
        parts = dict(
            teacher_s=lambda x: model.teacher(x, data['data_samples']),
            adapter_s=lambda x: [model.adapter(f) for f in x])
        for name, fn in parts.items():
            spent = []
            for i in range(iters + 1):
                x = [f.clone().requires_grad_() for f in feats]
                t = timed(lambda: sum(o.float().mean()
                                      for o in fn(x)).backward())
                if i:
                    spent.append(t)
            result[mode][name] = statistics.median(spent)
    if len(modes) == 1:
        if args.device.startswith('cuda'):
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result[modes[0]]['peak_mb'] = peak
    print('RESULT ' + json.dumps(result))


def measure(args, config, modes):
    cmd = [sys.executable, __file__, '--worker', config, ','.join(modes),
           '--iters', str(args.iters), '--size', str(args.size), '--batch',
           str(args.batch), '--device', args.device]
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [l for l in out.stdout.splitlines() if l.startswith('RESULT ')]
    if out.returncode or not lines:
        sys.exit(f'{config} ({modes}) failed:\n{out.stderr[-3000:]}')
    return json.loads(lines[-1][7:])


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
    modes = ['student'] + args.variants
    for name in args.detectors:
        res = measure(args, DETECTORS[name], modes)
        for mode in modes:  # peak memory: one fresh process per model
            res[mode].update(measure(args, DETECTORS[name], [mode])[mode])
        s = res['student']
        for mode in modes[1:]:
            d = res[mode]
            label = f'{name}, {mode}'
            print(f"| {label} | {s['iter_s']:.3f} | {d['iter_s']:.3f} | "
                  f"{d['iter_s'] / s['iter_s']:.2f} | {s['peak_mb']:.0f} | "
                  f"{d['peak_mb']:.0f} | {d['peak_mb'] / s['peak_mb']:.2f} | "
                  f"{d['teacher_s'] / s['iter_s']:.1%} | "
                  f"{d['adapter_s'] / s['iter_s']:.1%} |", flush=True)


if __name__ == '__main__':
    main()
