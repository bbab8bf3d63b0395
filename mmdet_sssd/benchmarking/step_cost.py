# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""What one training step costs: configs timed side by side in one
process, and the method's floor (the student with its head(s) run a second
time, no teacher) that ``tools/benchmarks/benchmark_overhead.py`` also
measures."""
import math
import statistics
import time
from typing import List, Optional, Tuple

import torch
import torch.nn as nn


class Floor(nn.Module):
    """The student plus one more pass of its own head(s) on a second,
    gradient-carrying copy of its maps (targets, proposals and sampling
    computed again): what a label-guided teacher costs at least."""

    def __init__(self, detector):
        from mmdet_sssd.models.distill.runners import build_runner
        super().__init__()
        self.student = detector
        self.data_preprocessor = detector.data_preprocessor
        self.runner = build_runner(detector)

    def forward(self, inputs, data_samples, mode='loss'):
        from mmdet_sssd.models.distill.runners import DetectorRunner
        feats = self.student.extract_feat(inputs)
        copy = [f.clone() for f in feats]
        ours, again = [out.losses for out in DetectorRunner.run(
            self.runner, [feats, copy], data_samples, [True, True])]
        ours.update({f'copy.{k}': v for k, v in again.items()})
        return ours

    def parse_losses(self, losses):
        return self.student.parse_losses(losses)


def _config(path: str, side: Optional[int]):
    """The config, with every ``Resize`` at ``side`` pixels as the digits
    job sets them for its layout (None: the config's own)."""
    from mmengine.config import Config

    from mmdet_sssd.benchmarking.digits import resize_keys
    cfg = Config.fromfile(path)
    if side:
        cfg.merge_from_dict(
            {key: (side, side) for key in resize_keys(cfg, path, side)})
    return cfg


def _build(path: str, data_root: str, num_train: int, batches: dict,
           side: Optional[int], device: str):
    """(model, optimizer, batch size, steps of its schedule) of a config,
    its backbone not loaded, on ``device``; its first 8 batches on
    ``data_root`` are added to ``batches`` (by batch size)."""
    from mmdet.registry import MODELS
    from mmengine.runner import Runner

    from mmdet_sssd.models.distill.phases import Phase
    cfg = _config(path, side)
    cfg.model.get('detector', cfg.model).backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device).train()
    if hasattr(model, 'phases'):  # past any warm-up (the hook's job)
        model.phase = Phase()
    loader = cfg.train_dataloader
    loader.dataset.data_root = data_root + '/'
    if loader.batch_size not in batches:
        batches[loader.batch_size] = [
            b for _, b in zip(range(8), Runner.build_dataloader(loader))]
    iters = cfg.train_cfg.max_epochs * math.ceil(
        num_train / loader.batch_size)
    return (model, torch.optim.AdamW(model.parameters(), lr=1e-5),
            loader.batch_size, iters)


def _floor(baseline: str, like: tuple, device: str) -> tuple:
    """The floor of the ``baseline`` config, with the batch size and steps
    of its entry ``like``."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    cfg = Config.fromfile(baseline)
    cfg.model.backbone.init_cfg = None
    student = MODELS.build(cfg.model)
    student.init_weights()
    # mmengine's BaseModel.to also moves where its data preprocessor puts
    # the batch; Floor's (a plain nn.Module.to) would not
    floor = Floor(student.to(device))
    return (floor.train(), torch.optim.AdamW(floor.parameters(), lr=1e-5),
            like[2], like[3])


def _train_step(model, optim, batch) -> float:
    start = time.perf_counter()
    data = model.data_preprocessor(batch, True)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    optim.zero_grad()
    loss.backward()
    optim.step()
    if loss.is_cuda:  # the kernels run asynchronously
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _per_step(times: List[float], interval: int) -> List[float]:
    """Seconds per step: with a ``distill_interval`` of k, the mean of each
    k steps from a distilling one (the timed steps start at step 2); the
    steps as they are if there are fewer than one such group."""
    if interval == 1:
        return times
    skip = -2 % interval  # the first timed step that distils
    groups = [statistics.mean(times[i:i + interval])
              for i in range(skip, len(times) - interval + 1, interval)]
    return groups or times  # too few steps for one group


def step_cost(configs: List[Tuple[str, str]], data_root: str, steps: int,
              num_train: int, side: Optional[int] = None,
              device: str = 'cpu') -> str:
    """Median seconds of one training step (forward, backward, AdamW step)
    of each (name, config) of ``configs``, the configs' steps interleaved
    on one thread so that they share the machine's load alike; also times
    the config's whole schedule (steps per run x median); a distiller's
    ``distill_interval`` is honoured (its steps timed in groups). With a config
    named ``baseline``, its floor too. ``side``: every ``Resize`` at that
    many pixels (the digits job's layout); ``device``: where the models
    train (the data is loaded on the CPU). Returns a markdown table."""
    from mmdet.utils import register_all_modules

    import mmdet_sssd  # noqa: F401
    from mmdet_sssd.models.distill.phases import Phase
    register_all_modules()
    torch.set_num_threads(1)
    models, batches = {}, {}
    for name, path in configs:
        models[name] = _build(path, data_root, num_train, batches, side,
                              device)
    if 'baseline' in models:
        models['floor (baseline + its head again)'] = _floor(
            dict(configs)['baseline'], models['baseline'], device)
    times = {name: [] for name in models}
    for i in range(steps + 2):
        for name, (model, optim, bs, _) in models.items():
            if hasattr(model, 'phases'):  # which steps distil
                model.phase = Phase(distill=model.phases.at(i, 0).distill)
            spent = _train_step(model, optim,
                                batches[bs][i % len(batches[bs])])
            if i >= 2:  # the first steps warm up the allocator
                times[name].append(spent)
    scenes = f'{side}-pixel' if side else "the configs' own"
    lines = [f'Medians of {steps} steps on {device}, {scenes} scenes:', '',
             '| config | batch | s / step (median) | x baseline | steps '
             f'per run ({num_train} images) | s of steps per run |',
             '|---|---|---|---|---|---|']
    for name, (model, *_) in models.items():
        times[name] = _per_step(times[name], getattr(
            getattr(model, 'phases', None), 'interval', 1))
    base = statistics.median(times.get('baseline') or next(iter(
        times.values())))
    for name, (_, _, bs, iters) in models.items():
        med = statistics.median(times[name])
        lines.append(f'| {name} | {bs} | {med:.3f} | {med / base:.2f} | '
                     f'{iters} | {med * iters:.0f} |')
    return '\n'.join(lines)
