# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""What a benchmark reads back from a run's work dir (mmengine's logged
scalars, the scoring's metrics) and records about where it ran."""
import glob
import json
import os
import os.path as osp
import platform
import subprocess
from typing import Dict, List, Optional, Tuple

from .pool import job_name

# (record key, CocoMetric key) of the box AP at each IoU and size
METRICS = [('AP', 'bbox_mAP'), ('AP50', 'bbox_mAP_50'),
           ('AP75', 'bbox_mAP_75'), ('APs', 'bbox_mAP_s'),
           ('APm', 'bbox_mAP_m'), ('APl', 'bbox_mAP_l')]


def scores_teacher(run_dir: str) -> bool:
    """Whether the run's config (dumped by the runner) validates with
    LabelTeacherValLoop (``SelfDistillValLoop`` before 0.1), i.e. has a
    label teacher to score."""
    return any(name in open(p).read()
               for p in glob.glob(osp.join(run_dir, '*.py'))
               for name in ('LabelTeacherValLoop', 'SelfDistillValLoop'))


def agnostic_test_options(run_dir: str) -> List[str]:
    """The ``--cfg-options`` that score the run's last checkpoint
    class-agnostically (:class:`ClassAgnosticCocoMetric` in place of its
    ``CocoMetric``, a dict or a list of one, in the config the runner
    dumped), or none: with a label teacher (whose scoring has the
    class-agnostic AP already) or another test metric."""
    from mmengine.config import Config

    from mmdet_sssd.evaluation import class_agnostic_config
    if scores_teacher(run_dir):
        return []
    evaluator = Config.fromfile(
        glob.glob(osp.join(run_dir, '*.py'))[0]).get('test_evaluator')
    if class_agnostic_config(evaluator) is None:
        return []
    key = ('test_evaluator.0' if isinstance(evaluator, (list, tuple))
           else 'test_evaluator')
    return [f'{key}.type=ClassAgnosticCocoMetric',
            f'{key}.prefix=coco_agnostic']


def _zero_missing(metrics: dict, prefixes: List[str], run_dir: str,
                  when: str) -> None:
    """CocoMetric logs nothing when no box passed the score threshold:
    that is an AP of 0, said in a message."""
    for prefix in prefixes:
        if f'{prefix}bbox_mAP' not in metrics:
            print(f'[{job_name()}] {run_dir}: no detections of '
                  f'{prefix[:-1]} {when}: AP counted as 0', flush=True)
            metrics.update({f'{prefix}{key}': 0.0 for _, key in METRICS})


def read_test_metrics(run_dir: str, scoring: str = 'test',
                      prefixes: Optional[List[str]] = None) -> dict:
    """The metrics of the run's newest scoring in ``<run_dir>/<scoring>``,
    as logged, with 0 for an empty metric of ``prefixes`` (by default the
    student's ``coco/``, and ``teacher/coco/`` with a label teacher)."""
    out = osp.join(run_dir, scoring)
    # test.py logs to <ts>/<ts>.json, eval_teacher.py (a val loop) to
    # <ts>/vis_data/scalars.json: the newest run's metrics
    newest = sorted(d for d in os.listdir(out)
                    if osp.isdir(osp.join(out, d)))[-1]
    metrics = {}
    for path in glob.glob(osp.join(out, newest, '**', '*.json'),
                          recursive=True):
        with open(path) as f:
            for line in f:
                metrics.update(json.loads(line))
    if prefixes is None:
        prefixes = ['coco/'] + (['teacher/coco/']
                                if scores_teacher(run_dir) else [])
    _zero_missing(metrics, prefixes, run_dir, 'on the test split')
    return metrics


def test_record(metrics: dict) -> dict:
    """The test split's AP, AP50, AP75, APs, APm and APl (percent) of the
    student (``AP``...), and where logged of the label teacher
    (``teacher_AP``...) and of both class-agnostic (``agnostic_AP``...,
    ``teacher_agnostic_AP``...); None where no object has that size."""
    record = {}
    for name_prefix, prefix in (('', 'coco/'), ('teacher_', 'teacher/coco/'),
                                ('teacher_agnostic_',
                                 'teacher/coco_agnostic/'),
                                ('agnostic_', 'coco_agnostic/')):
        if f'{prefix}bbox_mAP' not in metrics:
            continue
        for name, key in METRICS:
            value = metrics.get(f'{prefix}{key}', -1)
            record[name_prefix + name] = None if value == -1 else round(
                100 * max(value, 0.0), 1)
    return record


def scalars_files(work_dir: str) -> List[str]:
    """The ``<timestamp>/vis_data/scalars.json`` of each attempt mmengine
    logged in ``work_dir``, oldest first (empty if none)."""
    paths = (osp.join(work_dir, d, 'vis_data', 'scalars.json')
             for d in sorted(os.listdir(work_dir)))
    return [p for p in paths if osp.isfile(p)]


def read_scalars(work_dir: str) -> Tuple[List[dict], List[dict]]:
    """Train and val records of the newest run in ``work_dir``."""
    with open(scalars_files(work_dir)[-1]) as f:
        records = [json.loads(line) for line in f]
    train = [r for r in records if 'lr' in r]
    # one record per validation
    val = [r for r in records if 'lr' not in r and 'step' in r]
    prefixes = ['coco/'] + (['teacher/coco/']
                            if scores_teacher(work_dir) else [])
    # the class-agnostic AP (LabelTeacherValLoop with a CocoMetric)
    prefixes += [p for p in ('coco_agnostic/', 'teacher/coco_agnostic/')
                 if any(f'{p}bbox_mAP_50' in r for r in val)]
    for r in val:
        _zero_missing(r, prefixes, work_dir, f'at validation {r["step"]}')
    return train, val


def epoch_means(train: List[dict]) -> Optional[Dict[str, list]]:
    """Per epoch, the mean over its logged train records of each loss
    (``loss``, ``loss_cls``, ``teacher.loss_bbox``...) and of the
    distillation coefficient: ``{name: [epoch 1, epoch 2, ...]}``, rounded
    to 4 decimals. None for an iteration-based run (no ``epoch`` logged).
    """
    if not train or any('epoch' not in r for r in train):
        return None
    by_epoch: Dict[int, List[dict]] = {}
    for r in train:
        by_epoch.setdefault(r['epoch'], []).append(r)
    names = dict.fromkeys(k for r in train for k in r
                          if k.split('.')[-1].startswith('loss')
                          or k == 'distill_coef')
    means: Dict[str, list] = {name: [] for name in names}
    for epoch in sorted(by_epoch):
        for name in names:
            values = [r[name] for r in by_epoch[epoch] if name in r]
            means[name].append(round(sum(values) / len(values), 4)
                               if values else None)
    return means


def curves(train: List[dict], val: List[dict]) -> Dict[str, list]:
    """A run's curves for its record: the val AP at each validation (of
    the student, of its label teacher and both class-agnostic, None where
    not logged), the (iteration, lambda, LR) schedule and the train
    losses' means per epoch (:func:`epoch_means`)."""
    def ap(key):
        return [round(100 * v[f'{key}/bbox_mAP'], 1) for v in val
                if f'{key}/bbox_mAP' in v] or None
    return dict(val_ap=ap('coco') or [],
                teacher_val_ap=ap('teacher/coco'),
                teacher_agnostic_val_ap=ap('teacher/coco_agnostic'),
                agnostic_val_ap=ap('coco_agnostic'),
                schedule=[(r['iter'], r.get('distill_coef'), r['lr'])
                          for r in train],
                train_loss=epoch_means(train))


def code_version(root: str) -> Optional[str]:
    """The commit of the checkout whose top folder is ``root``, ``-dirty``
    with uncommitted changes; None when ``root`` is not a checkout's top
    (a regular install's ``site-packages``, which may lie inside another
    repository, e.g. pyenv's: its commit is not this code's)."""
    def git(*args):
        return subprocess.run(['git', *args], cwd=root, capture_output=True,
                              text=True, timeout=30).stdout.strip()

    try:
        top = git('rev-parse', '--show-toplevel')
        if not top or osp.realpath(top) != osp.realpath(root):
            return None
        return git('describe', '--always', '--dirty') or None
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model(cpuinfo: str) -> Optional[str]:
    """The first processor's name in ``/proc/cpuinfo`` text, with its family
    and model numbers where given: virtual machines often name only the
    brand ('AMD EPYC'), and two such machines of different generations
    train one seed to different numbers. None without a model name."""
    info = {}
    for line in cpuinfo.splitlines():
        if not line.strip() and info:
            break  # the first processor's block is enough
        key, _, value = line.partition(':')
        if key.strip() in ('model name', 'cpu family', 'model'):
            info.setdefault(key.strip(), value.strip())
    if 'model name' not in info:
        return None
    if 'cpu family' in info and 'model' in info:
        return (f'{info["model name"]} (family {info["cpu family"]}, '
                f'model {info["model"]})')
    return info['model name']


def machine(device: str = 'cpu') -> str:
    """The machine in words: CPU model (:func:`cpu_model`), cores, and the
    GPU the runs used (``device='cuda'``) or 'CPU only'."""
    model = None
    try:
        with open('/proc/cpuinfo') as f:
            model = cpu_model(f.read())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    if device == 'cuda':
        import torch
        return (f'{model}, {os.cpu_count()} cores, '
                f'{torch.cuda.get_device_name(0)}')
    return f'{model}, {os.cpu_count()} cores, CPU only'
