# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Training cost of SSSD against the student and the method's floor,
measured side by side.

    python tools/benchmarks/benchmark_overhead.py
        [--variants sssd lgd head-off] [--iters 4] [--size 512] [--batch 2]

For RetinaNet, FCOS and Faster R-CNN R-50 (stock configs, random init,
512x512, batch 2, CPU by default) it trains, on the same inputs and
alternating their iterations in one process (median time): the plain
student; the *floor*, the student with its head(s) run a second time on a
gradient-carrying copy of its maps (for two-stage detectors: RPN loss and
proposals, RoI head), no teacher; and the SSSDDistiller variants (by
default ``sssd``, the lite defaults, and ``lgd``, LGD's teacher preset and
3x3 adapter). Each one's peak memory is measured in a fresh process
(resident memory on CPU, allocated memory on CUDA). It prints time and
memory ratios to the student and the floor, and a breakdown of the extra
time as shares of the student's iteration: the label teacher's modules and
the adapter (forward + backward each), the head pass on the teacher maps
(forward with its loss, backward) and, inside that forward, target
assignment and the RPN's proposals.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

import torch

from mmdet_sssd.benchmarking.step_cost import Floor
from mmdet_sssd.utils.mmdet_tools import tools_env

DETECTORS = {
    'RetinaNet R-50': 'retinanet/retinanet_r50_fpn_1x_coco.py',
    'FCOS R-50': 'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'Faster R-CNN R-50': 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
}


# name: (what it is, SSSDDistiller options)
VARIANTS = {
    'floor': ('the student with its head(s) run twice, no teacher', None),
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
    parser.add_argument('--iters', type=int, default=4,
                        help='timed iterations of each model after one '
                        'warm-up; the median is reported')
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--detectors', nargs='+', default=list(DETECTORS))
    parser.add_argument(
        '--variants', nargs='+', default=['sssd', 'lgd'],
        choices=[v for v in VARIANTS if v != 'floor'],
        help='distiller settings to measure against the student: '
        + '; '.join(f'{k}: {v[0]}' for k, v in VARIANTS.items()))
    parser.add_argument('--worker', nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def build(config, mode, device):
    from mmdet.registry import MODELS

    from mmdet_sssd.testing import get_stock_config
    model_cfg = get_stock_config(config).model
    model_cfg.backbone.init_cfg = None  # random init: no download
    if mode not in ('student', 'floor'):
        model_cfg = dict(
            type='SSSDDistiller', detector=model_cfg, **VARIANTS[mode][1])
    model = MODELS.build(model_cfg)
    model.init_weights()  # as the runner does (RetinaNet's prior-prob bias)
    # mmengine's BaseModel.to also moves its data preprocessor's target
    # device; a plain nn.Module.to (Floor's) would not
    model = model.to(device)
    if mode == 'floor':
        model = Floor(model)
    return model.train()


@contextmanager
def timers(methods):
    """Adds the seconds spent inside ``obj.name`` to ``spent[key]`` for
    each ``key: (obj, name)`` of ``methods`` (None objects skipped)."""
    spent, patched = {}, []
    for key, (obj, name) in methods.items():
        if obj is None or not hasattr(obj, name):
            continue

        def timed(*a, _fn=getattr(obj, name), _key=key, **k):
            start = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                spent[_key] = spent.get(_key, 0.) + time.perf_counter() - start
        setattr(obj, name, timed)
        patched.append((obj, name))
    try:
        yield spent
    finally:
        for obj, name in patched:
            delattr(obj, name)


def _inner_methods(runner):
    """Target assignment and proposals inside the head pass."""
    det = runner.detector
    if runner.two_stage:
        roi = det.roi_head
        return dict(targets_s=(det.rpn_head, 'get_targets'),
                    proposals_s=(det.rpn_head, 'predict_by_feat'),
                    roi_assign_s=(getattr(roi, 'bbox_assigner', None),
                                  'assign'),
                    roi_sample_s=(getattr(roi, 'bbox_sampler', None),
                                  'sample'))
    return dict(targets_s=(det.bbox_head, 'get_targets'))


def worker(args, config, modes):
    """Measures (detector, modes) in this process and prints JSON.

    With one mode: its peak memory (the process holds nothing else). With
    several: their iteration times, interleaved (A B C A B C ...) so that
    any load on the machine hits all of them alike, and the median taken;
    plus, for the distillers, the breakdown of the extra time.
    """
    from mmdet.testing import demo_mm_inputs
    from mmdet.utils import register_all_modules

    import mmdet_sssd  # noqa: F401
    register_all_modules()
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
    for mode in modes if len(modes) > 1 else []:
        if mode not in ('student', 'floor'):
            result[mode].update(
                breakdown(models[mode], packed, iters, timed))
    if len(modes) == 1:
        if args.device.startswith('cuda'):
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result[modes[0]]['peak_mb'] = peak
    print('RESULT ' + json.dumps(result))


def breakdown(model, packed, iters, timed):
    """Medians of the label teacher's and the adapter's forward + backward,
    and of one head pass on the teacher maps (forward with its loss, its
    backward, and target assignment / proposals inside the forward)."""
    data = model.data_preprocessor(packed, True)
    samples = data['data_samples']
    with torch.no_grad():
        feats = [f.detach() for f in model.student.extract_feat(
            data['inputs'])]
        maps = [m.detach() for m in model.teacher(feats, samples)]

    def total(losses):
        return sum(v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v)
                   for k, v in losses.items() if 'loss' in k)

    def teacher():
        x = [f.clone().requires_grad_() for f in feats]
        sum(o.float().mean() for o in model.teacher(x, samples)).backward()

    def adapter():
        x = [f.clone().requires_grad_() for f in feats]
        sum(model.label_term.adapter(f).float().mean()
            for f in x).backward()

    keys = ('teacher_s', 'adapter_s', 'head_fwd_s', 'head_bwd_s',
            'targets_s', 'proposals_s', 'roi_assign_s', 'roi_sample_s')
    spent = {k: [] for k in keys}
    for i in range(iters + 1):
        one = dict(teacher_s=timed(teacher),
                   adapter_s=timed(adapter) if model.label_term.adapter
                   else 0.)
        x = [m.clone().requires_grad_() for m in maps]
        out = {}
        with timers(_inner_methods(model.head_runner)) as inner:
            one['head_fwd_s'] = timed(lambda: out.update(
                loss=total(model.head_runner.loss(x, samples))))
        one['head_bwd_s'] = timed(lambda: out['loss'].backward())
        model.zero_grad(set_to_none=True)
        one.update(inner)
        if i:
            for key in keys:
                spent[key].append(one.get(key, 0.))
    return {k: statistics.median(v) for k, v in spent.items()}


def measure(args, config, modes):
    cmd = [sys.executable, __file__, '--worker', config, ','.join(modes),
           '--iters', str(args.iters), '--size', str(args.size), '--batch',
           str(args.batch), '--device', args.device]
    # the worker runs this process's mmdet_sssd
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env=tools_env())
    lines = [l for l in out.stdout.splitlines() if l.startswith('RESULT ')]
    if out.returncode or not lines:
        sys.exit(f'{config} ({modes}) failed:\n{out.stderr[-3000:]}')
    return json.loads(lines[-1][7:])


def main():
    args = parse_args()
    if args.worker:
        return worker(args, *args.worker)
    device = args.device
    if device == 'cpu':
        machine = f'CPU, {torch.get_num_threads()} threads'
    else:
        machine = torch.cuda.get_device_name(device)
    print(f'# {args.size}x{args.size}, batch {args.batch}, median of '
          f'{args.iters} interleaved iterations, {machine}, torch '
          f'{torch.__version__}, load average {os.getloadavg()[0]:.1f} at '
          f'the start')
    header = ('| detector, model | s/iter | x student | x floor | peak MB | '
              'mem x student | teacher | adapter | head fwd | head bwd | '
              'targets | proposals | RoI assign+sample |')
    print(header)
    print('|' + '---|' * header.count(' | ') + '---|')
    modes = ['student', 'floor'] + args.variants
    for name in args.detectors:
        res = measure(args, DETECTORS[name], modes)
        for mode in modes:  # peak memory: one fresh process per model
            res[mode].update(measure(args, DETECTORS[name], [mode])[mode])
        s, f = res['student'], res['floor']
        for mode in modes:
            d = res[mode]

            def share(*keys):
                if keys[0] not in d:
                    return ''
                return f"{sum(d[k] for k in keys) / s['iter_s']:.1%}"
            print(f"| {name}, {mode} | {d['iter_s']:.3f} | "
                  f"{d['iter_s'] / s['iter_s']:.2f} | "
                  f"{d['iter_s'] / f['iter_s']:.2f} | {d['peak_mb']:.0f} | "
                  f"{d['peak_mb'] / s['peak_mb']:.2f} | "
                  f"{share('teacher_s')} | {share('adapter_s')} | "
                  f"{share('head_fwd_s')} | {share('head_bwd_s')} | "
                  f"{share('targets_s')} | {share('proposals_s')} | "
                  f"{share('roi_assign_s', 'roi_sample_s')} |", flush=True)
    print('# teacher ... RoI assign+sample: shares of the student\'s '
          'iteration; targets, proposals and RoI assign+sample are spent '
          'inside head fwd (one head pass on the teacher maps)')


if __name__ == '__main__':
    main()
