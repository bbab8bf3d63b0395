# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The digits benchmark as a preset of the paired job: its methods
(configs/digits/), sizes, options, comparisons, and SAD's pseudo-labels.

``tools/digits_benchmark.py`` is its command; the data and the pretrained
backbone are made by :mod:`.digits_data`."""
import math
import os.path as osp
import shlex
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

from mmdet_sssd.datasets.coco_layout import COCO_SIZED_LAYOUTS
from mmdet_sssd.datasets.coco_layout import IMAGE_SIZE as COCO_SIDE
from mmdet_sssd.datasets.coco_layout import LAYOUTS as SCENE_LAYOUTS
from mmdet_sssd.utils.mmdet_tools import tools_dir, tools_env
from .digits_data import check_pretrain_scales
from .launch import tool
from .paired_job import PairedJob
from .pool import phase
from .pseudo_quality import pseudo_quality

CONFIGS = {
    'baseline': 'configs/digits/retinanet_r18_fpn_digits.py',
    'lgd': 'configs/digits/lgd_retinanet_r18_fpn_digits.py',
    # the recommended SSSD (a label teacher far ahead of its student) and
    # SSSD as published (configs/sssd/ scaled to the student)
    'sssd': 'configs/digits/sssd_retinanet_r18_fpn_digits.py',
    'sssd-published':
    'configs/digits/sssd-published_retinanet_r18_fpn_digits.py',
    'sssd-constant':
    'configs/digits/sssd-constant_retinanet_r18_fpn_digits.py',
    # the recommended teacher with lambda 10: ahead from epoch 2 and its
    # student not behind the baseline on the tuning seeds
    'sssd-lam10': 'configs/digits/sssd-lam10_retinanet_r18_fpn_digits.py',
    # the head never trained by the teacher, lambda 5: chosen on the
    # tuning seeds after the report of the others (the 400-409 test)
    'sssd-decoupled':
    'configs/digits/sssd-decoupled_retinanet_r18_fpn_digits.py',
    # the decoupled SSSD at lambda 10: chosen on the tuning seeds by the
    # 500-507 pre-registration's rule (against the baseline of weight
    # decay 0.05) and tested there
    'sssd-decoupled-lam10':
    'configs/digits/sssd-decoupled-lam10_retinanet_r18_fpn_digits.py',
    # the same with lambda constant: the stepwise part measured there
    'sssd-decoupled-lam10-constant':
    'configs/digits/'
    'sssd-decoupled-lam10-constant_retinanet_r18_fpn_digits.py',
    # the decoupled SSSD at lambda 1: chosen on the tuning seeds against
    # the baseline of weight decay 0.5 (the 1200 pre-registration); the
    # default job's until the 1500 test (-0.56 AP on seeds 1300-1307)
    'sssd-decoupled-lam1':
    'configs/digits/sssd-decoupled-lam1_retinanet_r18_fpn_digits.py',
    # the same with LGD's warm-up and ADL's logit term from the label
    # teacher's scores: +0.88 AP on fresh seeds 1500-1505 (the 1500
    # pre-registration); the default job's
    'sssd-decoupled-lam1-warmup3-adl':
    'configs/digits/'
    'sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits.py',
    'ssim': 'configs/digits/ssim_retinanet_r18_fpn_digits.py',
    'adl': 'configs/digits/adl_retinanet_r18_fpn_digits.py',
    # semi-supervised: the labeled quarter only (also SAD's teacher), SAD
    # on it + the rest pseudo-labeled, and SAD with SSSD's label teacher
    'semi-baseline': 'configs/digits/retinanet_r18_fpn_digits-labeled.py',
    'sad': 'configs/digits/sad_retinanet_r18_fpn_digits.py',
    'sad-sssd': 'configs/digits/sad-sssd_retinanet_r18_fpn_digits.py',
}
# methods trained on the labeled quarter (+ pseudo-labels), compared with
# the semi-baseline; they run after it (its checkpoint is their teacher)
SEMI = ('sad', 'sad-sssd')
# iteration-based configs (the others count epochs)
ITER_BASED = ('semi-baseline', ) + SEMI
# (train images, val images, epochs); the default's schedule is the
# configs' own
SIZES = dict(default=(1000, 200, 18), full=(4000, 500, 12), smoke=(8, 4, 1))
# held-out test images on which the final checkpoints are scored: val (200)
# draws each epoch's curve; its sampling noise, several AP between two
# models of equal test AP, decided the tuning (docs/benchmarks/digits)
TEST_IMAGES = dict(default=2000, full=2000, smoke=4)


def epochs_for(size: str, num_train: int) -> int:
    """The epochs of ``size`` with ``num_train`` train images: as many
    training iterations as the size's own images and epochs (more images
    are then fewer passes over each, at the same cost)."""
    own_train, _, own_epochs = SIZES[size]
    epochs, left = divmod(own_train * own_epochs, max(num_train, 1))
    if num_train < 1 or left or not epochs:
        raise ValueError(
            f'--train-images {num_train}: the {size} size trains '
            f'{own_train} images x {own_epochs} epochs; the images must '
            f'divide {own_train * own_epochs} to keep its iterations '
            f'(e.g. 1000, 1500, 2000, 3000)')
    return epochs


# the scenes the benchmark can train on (datasets/coco_layout), and the side
# every pipeline's Resize then scales to (None: the configs' own 96 pixels)
LAYOUTS = {layout: COCO_SIDE if layout in COCO_SIZED_LAYOUTS else None
           for layout in SCENE_LAYOUTS}

# iterations of the iteration-based configs: as many as the epoch-based
# runs at batch 8 (the default's are the configs' own)
ITERS = dict(default=750, full=6000, smoke=4)


def digits_root() -> str:
    """Where the digits runs start: the folder of ``tools/`` and
    ``configs/`` (the checkout, or the installed package's ``.mim``)."""
    return osp.dirname(tools_dir())


def plain_detector(method: str) -> bool:
    """Whether a method is a plain detector (a name holding "baseline"),
    not a distiller wrapping one."""
    return 'baseline' in method


def comparisons(methods: List[str]) -> List[Tuple[str, str]]:
    """(method, reference) pairs: each distilled method against the
    baseline (the semi-supervised ones against the semi-baseline), SSSD
    against each other distilled method, SAD with SSSD against SAD."""
    def reference(m):
        return 'semi-baseline' if m in SEMI else 'baseline'
    pairs = [(m, reference(m)) for m in methods
             if m not in ('baseline', 'semi-baseline')
             and reference(m) in methods]
    if 'sssd' in methods:
        pairs += [('sssd', m) for m in methods if m not in
                  ('sssd', 'baseline', 'semi-baseline') + SEMI]
    if 'sssd-published' in methods and 'lgd' in methods:
        pairs.append(('sssd-published', 'lgd'))  # the two as published
    if 'sad' in methods and 'sad-sssd' in methods:
        pairs.append(('sad-sssd', 'sad'))
    return pairs + variant_comparisons(methods)


def variant_comparisons(methods: List[str]) -> List[Tuple[str, str]]:
    """The pairs of arms of a variant recipe, named ``<name>-<suffix>``
    after a ``baseline-<suffix>`` arm (e.g. ``baseline-wd0.5`` and
    ``sssd-decoupled-lam10-wd0.5``, a weight decay changed in both):
    each distilled arm of the variant, and each stock distilled method
    (:data:`CONFIGS`), against the variant's baseline; each distilled
    arm of the variant against its stock method, where it ran."""
    pairs = []
    for base in methods:
        if not base.startswith('baseline-'):
            continue
        suffix = base[len('baseline'):]
        for m in methods:
            if plain_detector(m):
                continue
            if m.endswith(suffix) or m in CONFIGS:
                pairs.append((m, base))
            if m.endswith(suffix) and m[:-len(suffix)] in methods:
                pairs.append((m, m[:-len(suffix)]))
    return pairs


def schedule_options(config: str, length: int, by_epoch: bool,
                     scale_own: bool = False,
                     num_train: Optional[int] = None) -> List[str]:
    """Options that retime ``config`` to ``length`` epochs (or
    iterations): the loop, the checkpoint interval, and each of its
    ``MultiStepLR`` schedulers, found by type in the config's
    ``param_scheduler`` (not by an assumed position), ending at
    ``length`` with milestones at 2/3 and 5/6 of it, or with
    ``scale_own`` at the fractions of the config's own milestones. With
    ``scale_own`` and ``num_train`` (the retimed run's images), a
    distiller's phases counted in epochs (``distill_warmup``,
    ``backbone_freeze``, ``distill_ramp``) keep their fraction of the run
    too, counted in iterations (a fraction of an epoch cannot be said in
    epochs)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    schedulers = cfg.param_scheduler
    steps = [i for i, s in enumerate(schedulers)
             if s.get('type') == 'MultiStepLR']
    if not steps:
        raise ValueError(f'{config}: no MultiStepLR in param_scheduler to '
                         f'retime')
    if scale_own:
        own = cfg.train_cfg['max_epochs' if by_epoch else 'max_iters']
        milestones = [max(1, m * length // own)
                      for m in schedulers[steps[0]].milestones]
    else:
        milestones = [max(1, length * 2 // 3), max(1, length * 5 // 6)]
    loop = ([f'train_cfg.max_epochs={length}'] if by_epoch else
            [f'train_cfg.max_iters={length}',
             f'train_cfg.val_interval={max(1, length // 5)}'])
    for i in steps:
        loop += [f'param_scheduler.{i}.end={length}',
                 f'param_scheduler.{i}.milestones='
                 f'[{",".join(map(str, milestones))}]']
    return loop + [f'default_hooks.checkpoint.interval={length}'] + (
        _phase_options(cfg, length, num_train)
        if scale_own and by_epoch and num_train else [])


def resize_keys(cfg, config: str, side: int) -> List[str]:
    """The keys of the ``scale`` of every ``Resize`` in the parsed
    ``cfg``'s train, val and test pipelines (``config``, its file, and
    ``side`` name it in the error).

    Raises:
        ValueError: A loader without a ``Resize`` in its dataset's
            pipeline (e.g. a semi-supervised config's two datasets).
    """
    keys = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        pipeline = cfg[loader].dataset.get('pipeline') or []
        found = [i for i, t in enumerate(pipeline) if t.type == 'Resize']
        if not found:
            raise ValueError(f'{config}: no Resize in {loader}.dataset.'
                             f'pipeline to scale to {side} pixels')
        keys += [f'{loader}.dataset.pipeline.{i}.scale' for i in found]
    return keys


def resize_options(config: str, side: int) -> List[str]:
    """Options that make every ``Resize`` of ``config``'s train, val and
    test pipelines scale to ``side`` x ``side`` (keeping the ratio); the
    ValueError of :func:`resize_keys`."""
    from mmengine.config import Config
    return [f'{key}=({side},{side})' for key in resize_keys(
        Config.fromfile(config), config, side)]


def _phase_options(cfg, length: int, num_train: int) -> List[str]:
    """A distiller's epoch phases as iterations of the retimed run."""
    model = cfg.model
    phases = {k: model[k] for k in ('distill_warmup', 'backbone_freeze',
                                    'distill_ramp') if model.get(k)}
    if not model.get('by_epoch') or not phases:
        return []
    iters = length * math.ceil(num_train / cfg.train_dataloader.batch_size)
    own = cfg.train_cfg.max_epochs
    return ['model.by_epoch=False'] + [
        f'model.{k}={round(v * iters / own)}' for k, v in phases.items()]


def data_fields(layout: str, pretrain_scales: str) -> dict:
    """``layout`` and ``pretrain_scales`` as a run record holds them: only
    where not ``'digits'`` (the records before either field have none)."""
    return {key: value for key, value in (
        ('layout', layout), ('pretrain_scales', pretrain_scales))
        if value != 'digits'}


def recorded_scales(run: dict) -> str:
    """The backbone's pretraining scales of a run record: its
    ``pretrain_scales``, or for the records made before that field (the
    3700 probe's) the ``--pretrain-scales`` of its command."""
    if 'pretrain_scales' in run:
        return run['pretrain_scales']
    args = shlex.split(run.get('command') or '')
    for i, arg in enumerate(args):
        if arg == '--pretrain-scales' and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith('--pretrain-scales='):
            return arg.split('=', 1)[1]
    return 'digits'


class DigitsJob(PairedJob):
    """The paired job on the digits data of one size: each method's data,
    schedule and pretrained backbone as options, the test split scored,
    SAD's pseudo-labels made by each seed's semi-baseline.

    Args:
        size (str): ``'default'``, ``'full'`` or ``'smoke'``.
        data_root (str): The data folder (absolute).
        backbone (str): The pretrained backbone's weights.
        num_train (int, optional): Train images, if not the size's own:
            the epoch-based configs then train :func:`epochs_for` epochs
            (the size's iterations) with their milestones at the same
            fractions of the run.
        epochs (int, optional): Epochs of the epoch-based configs instead
            (their milestones and phases at the same fractions of the
            run). Defaults to the size's iterations, as above.
        layout (str): The data's scenes: ``'digits'`` (the configs' own,
            96 pixels) or ``'coco'`` (COCO's statistics,
            :mod:`mmdet_sssd.datasets.coco_layout`): every pipeline's
            ``Resize`` then scales to their side. Defaults to ``'digits'``.
        pretrain_scales (str): The glyph scales ``backbone`` was
            pretrained on (:func:`~.digits_data.prepare_data`):
            ``'digits'`` (every record's before the 3700 probe) or
            ``'layout'``; recorded where not ``'digits'``. Defaults to
            ``'digits'``.
        kwargs: :class:`PairedJob`'s, but ``test_options``,
            ``test_fields`` and ``cwd``.
    """

    def __init__(self, size: str, data_root: str, backbone: str,
                 num_train: Optional[int] = None,
                 epochs: Optional[int] = None, layout: str = 'digits',
                 pretrain_scales: str = 'digits', **kwargs):
        if layout not in LAYOUTS:
            raise ValueError(f'layout must be one of {sorted(LAYOUTS)}, got '
                             f'{layout!r}')
        check_pretrain_scales(pretrain_scales)
        self.size, self.backbone, self.layout = size, backbone, layout
        self.pretrain_scales = pretrain_scales
        self._resizes: Dict[str, List[str]] = {}
        self.root = data_root.rstrip('/') + '/'
        own_train, self.num_val, own_epochs = SIZES[size]
        self.num_train = num_train or own_train
        self.epochs = epochs or epochs_for(size, self.num_train)
        self.retimed = (self.num_train, self.epochs) != (own_train,
                                                         own_epochs)
        self.iters = ITERS[size]
        self.pseudo: Dict[int, Tuple[str, dict]] = {}
        self._schedules: Dict[str, List[str]] = {}
        root = self.root
        # the final checkpoints are scored on the test split
        super().__init__(
            test_options=[f'test_dataloader.dataset.data_root={root}',
                          'test_dataloader.dataset.ann_file=test.json',
                          f'test_evaluator.ann_file={root}test.json'],
            test_fields=dict(num_test=TEST_IMAGES[size]),
            cwd=digits_root(), **kwargs)

    def schedule(self, method: str) -> List[str]:
        """The size's schedule (the default's is the config's own; with
        other train images, the epochs retimed and the iterations kept)."""
        iters = method in ITER_BASED
        if self.size == 'default' and (iters or not self.retimed):
            return []
        if method not in self._schedules:
            self._schedules[method] = schedule_options(
                osp.join(self.cwd, self.arms[method]),
                self.iters if iters else self.epochs, not iters,
                scale_own=self.size == 'default',
                num_train=self.num_train)
        return self._schedules[method]

    def method_options(self, method: str) -> List[str]:
        """The data, evaluation, schedule and backbone of ``method``."""
        root, smoke = self.root, self.size == 'smoke'
        if method in SEMI:
            train = [f'train_dataloader.dataset.datasets.{i}.data_root={root}'
                     for i in (0, 1)]
            if smoke:
                train.append('train_dataloader.sampler.batch_size=2')
        else:
            train = [f'train_dataloader.dataset.data_root={root}']
        evaluation = [f'val_dataloader.dataset.data_root={root}',
                      f'test_dataloader.dataset.data_root={root}',
                      f'val_evaluator.ann_file={root}val.json',
                      f'test_evaluator.ann_file={root}val.json']
        if smoke:
            evaluation += ['train_dataloader.batch_size=2',
                           'val_dataloader.batch_size=2',
                           'default_hooks.logger.interval=1']
        # the baseline's backbone, or the distilled student's
        prefix = 'model.' if plain_detector(method) else 'model.detector.'
        return train + evaluation + self.schedule(method) + [
            f'{prefix}backbone.init_cfg.checkpoint={self.backbone}'
        ] + self.resize(method)

    def resize(self, method: str) -> List[str]:
        """Options that resize to the layout's side: each ``Resize`` of
        the train, val and test pipelines, found by type (none for the
        configs' own scenes)."""
        side = LAYOUTS[self.layout]
        if side is None:
            return []
        if method not in self._resizes:
            self._resizes[method] = resize_options(
                osp.join(self.cwd, self.arms[method]), side)
        return self._resizes[method]

    def arm_options(self, arm: str, seed: int) -> List[str]:
        if arm not in SEMI:
            return self.method_options(arm)
        # the seed's semi-baseline teaches, on its pseudo-labels
        teacher = osp.join(self.run_dir('semi-baseline', seed),
                           f'iter_{self.iters}.pth')
        return self.method_options(arm) + [
            f'model.pretrained_teacher.checkpoint={teacher}',
            'train_dataloader.dataset.datasets.1.ann_file='
            f'{self.pseudo[seed][0]}']

    def record_fields(self, arm: str, seed: int) -> dict:
        iters = arm in ITER_BASED
        fields = dict(epochs=None if iters else self.epochs,
                      iters=self.iters if iters else None,
                      num_train=self.num_train, num_val=self.num_val)
        # records before layouts, or before the backbone's scales, have none
        fields.update(self.data_fields())
        return fields

    def data_fields(self) -> dict:
        """The record fields naming the scenes and the backbone's
        pretraining, where not the first ones."""
        return data_fields(self.layout, self.pretrain_scales)

    def check_reusable(self, run: dict, path: str) -> None:
        """A finished run on other scenes or another backbone than this
        job's is refused."""
        theirs = data_fields(run.get('layout', 'digits'),
                             recorded_scales(run))
        ours = self.data_fields()
        if theirs != ours:
            raise ValueError(
                f'{path} records a run of {theirs or "the default data"}, '
                f'this job is {ours or "the default data"}: give another '
                f'--work-dir (or the run\'s --layout and --pretrain-scales) '
                f'to --skip-existing')

    def train_record(self, arm, seed, *cost) -> dict:
        run = super().train_record(arm, seed, *cost)
        if arm in SEMI:
            run['pseudo_labels'] = self.pseudo[seed][1]
        return run

    def make_pseudo_labels(self, seed: int, score_thr: float) -> None:
        """``tools/dataset_converters/pseudo_label.py`` with the seed's
        semi-baseline on the train images left unlabeled; keeps the file
        and the pseudo-labels' quality against the hidden true boxes
        (:func:`pseudo_quality`) for the seed's SAD runs."""
        out = osp.join(self.work_dir, f'pseudo_seed{seed}.json')
        ckpt = osp.join(self.run_dir('semi-baseline', seed),
                        f'iter_{self.iters}.pth')
        data = self.root.rstrip('/')
        phase(f'pseudo-labeling the unlabeled images with {ckpt}')
        subprocess.run([
            sys.executable, tool('dataset_converters/pseudo_label.py'),
            CONFIGS['semi-baseline'], ckpt,
            osp.join(data, 'train_unlabeled.json'), out,
            '--img-dir', osp.join(data, 'images'), '--score-thr',
            str(score_thr), '--device', 'cpu', '--batch-size', '16',
            '--categories-from', osp.join(data, 'train_labeled.json'),
            # the detector's own test threshold must not cut above ours
            '--cfg-options',
            f'model.test_cfg.score_thr={min(score_thr, 0.05)}'],
            cwd=self.cwd, env=tools_env(OMP_NUM_THREADS=str(self.threads)),
            check=True)
        quality = pseudo_quality(out, data, score_thr)
        if not quality['boxes']:
            sys.exit(f'no pseudo-label scored {score_thr} or more ({ckpt}); '
                     f'lower --pseudo-thr')
        phase(f'pseudo-labels: {quality}')
        self.pseudo[seed] = (out, quality)

    def teacher_figure(self, method: str, seed: int, out: str) -> None:
        """``tools/analysis_tools/vis_teacher.py`` on the first val image
        with the run's last checkpoint."""
        import json
        data = self.root.rstrip('/')
        with open(osp.join(data, 'val.json')) as f:
            image = json.load(f)['images'][0]['file_name']
        ckpt = osp.join(self.run_dir(method, seed), f'epoch_{self.epochs}.pth')
        subprocess.run([
            sys.executable, tool('analysis_tools/vis_teacher.py'),
            self.arms[method], ckpt, osp.join(data, 'images', image),
            '--out', out, '--ann-file', osp.join(data, 'val.json'),
            '--cfg-options'] + self.method_options(method),
            cwd=self.cwd, env=tools_env(), check=True)
