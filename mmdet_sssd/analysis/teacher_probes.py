# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Where does the label teacher keep, or lose, each object's class?

Measurements along the label teacher's path (``LabelEncoderTeacher``), for
``tools/analysis_tools/probe_teacher.py``:

1. the label embeddings (before the attention): a linear probe of the
   object's class;
2. the attention: the weight each object puts on its own label, against
   chance (1 / the keys of its image: its objects and the context box);
3. the teacher maps: a linear probe of the class from each box's mean, per
   level (the student's maps beside them, as a reference);

and a control with one object per image (:func:`keep_one_object`), where
putting the right label on the right box needs no routing.
"""
import copy
from typing import Dict, List, Sequence

import numpy as np
import torch
from mmdet.structures import SampleList
from mmengine.dataset import pseudo_collate

from ..models.teachers.box_grid import box_mean_pool


def keep_one_object(samples: SampleList) -> SampleList:
    """Copies of the samples holding only their first GT object (images
    without any are dropped): the single-object control."""
    kept = []
    for sample in samples:
        if len(sample.gt_instances):
            sample = copy.deepcopy(sample)
            sample.gt_instances = sample.gt_instances[:1]
            kept.append(sample)
    return kept


def preprocessed_batches(model, dataset, num_imgs: int, batch_size: int):
    """The first ``num_imgs`` images of ``dataset`` in batches of
    ``batch_size``, each through ``model.data_preprocessor`` (no
    augmentation): dicts of ``inputs`` and ``data_samples``."""
    for start in range(0, min(num_imgs, len(dataset)), batch_size):
        stop = min(start + batch_size, num_imgs, len(dataset))
        yield model.data_preprocessor(
            pseudo_collate([dataset[i] for i in range(start, stop)]), False)


@torch.no_grad()
def collect_teacher_probes(model, dataset, num_imgs: int,
                           batch_size: int = 16,
                           single_object: bool = False) -> Dict:
    """Run an ``SSSDDistiller``'s student and label teacher on the first
    ``num_imgs`` images of ``dataset`` (in eval mode) and gather, for each
    GT object (M in all):

    Returns:
        dict: ``labels`` (M, ) class ids; ``label_embeddings`` (M, C);
        ``own_weight`` (M, P) attention weight on its own label per level;
        ``num_keys`` (M, ) keys its attention could choose from;
        ``teacher`` and ``student``: P arrays (M, C) of the maps' means in
        its box on each level.
    """
    model.eval()
    teacher = model.teacher
    out = dict(labels=[], label_embeddings=[], own_weight=[], num_keys=[],
               teacher=[], student=[])
    for data in preprocessed_batches(model, dataset, num_imgs, batch_size):
        samples, inputs = data['data_samples'], data['inputs']
        if single_object:
            keep = [i for i, s in enumerate(samples) if len(s.gt_instances)]
            samples, inputs = keep_one_object(samples), inputs[keep]
        if not samples:
            continue
        feats = model.student.extract_feat(inputs)
        state = teacher.relate(feats, samples, need_weights=True)
        maps = teacher(feats, samples)
        objs = ~state['is_context']
        img_ids = state['img_ids']
        keys = torch.bincount(img_ids, minlength=len(samples))[img_ids]
        out['labels'].append(state['descriptors'][objs, 4:].argmax(1))
        out['label_embeddings'].append(state['label_embeddings'][objs])
        out['own_weight'].append(state['own_weight'][objs])
        out['num_keys'].append(keys[objs])
        for key, levels in (('teacher', maps), ('student', feats)):
            out[key].append([
                box_mean_pool(m, img_ids[objs], cells[objs])
                for m, cells in zip(levels, state['cells'])])
    result = {k: torch.cat(v).numpy() for k, v in out.items()
              if k not in ('teacher', 'student')}
    for key in ('teacher', 'student'):
        result[key] = [torch.cat(level).numpy() for level in zip(*out[key])]
    return result


def linear_probe_accuracy(x_train: np.ndarray, y_train: np.ndarray,
                          x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of a multinomial logistic regression (scikit-learn,
    standardised inputs) fit on the train objects."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if len(np.unique(y_train)) < 2:
        raise ValueError('linear_probe_accuracy: the train objects hold '
                         'one class; give the probe more images')
    probe = make_pipeline(StandardScaler(),
                          LogisticRegression(max_iter=2000))
    probe.fit(x_train, y_train)
    return float(probe.score(x_test, y_test))


def attention_routing(own_weight: np.ndarray,
                      num_keys: np.ndarray) -> Dict[str, float]:
    """The mean weight an object's attention puts on its own label (over
    objects and levels), the mean chance share ``1 / keys`` and their
    ratio (1: the attention does not route; larger: it finds its own
    label)."""
    own = float(own_weight.mean())
    chance = float((1.0 / num_keys).mean())
    return dict(own=own, chance=chance, ratio=own / chance)


def probe_report(train: Dict, test: Dict) -> Dict:
    """All probes: fit on ``train`` (from :func:`collect_teacher_probes`),
    scored on ``test``; the majority class's share as the chance level."""
    counts = np.bincount(test['labels'])
    report = dict(
        objects=dict(train=int(len(train['labels'])),
                     test=int(len(test['labels']))),
        majority_class=float(counts.max() / counts.sum()),
        label_embeddings=linear_probe_accuracy(
            train['label_embeddings'], train['labels'],
            test['label_embeddings'], test['labels']),
        attention=attention_routing(test['own_weight'], test['num_keys']))
    for key in ('teacher', 'student'):
        report[f'{key}_maps'] = [
            linear_probe_accuracy(a, train['labels'], b, test['labels'])
            for a, b in zip(train[key], test[key])]
    return report


def format_report(report: Dict, levels: Sequence[str] = ()) -> List[str]:
    """The report as lines of text."""
    att = report['attention']
    levels = list(levels) or [f'P{i}' for i in range(
        len(report['teacher_maps']))]
    lines = [
        f"objects: {report['objects']['train']} train, "
        f"{report['objects']['test']} test; majority class "
        f"{report['majority_class']:.3f}",
        f"label embeddings (before the attention): class probe "
        f"{report['label_embeddings']:.3f}",
        f"attention: weight on its own label {att['own']:.3f}, chance "
        f"{att['chance']:.3f} (x{att['ratio']:.2f})",
    ]
    for key in ('teacher', 'student'):
        lines.append(f'{key} maps, class probe at the box mean: ' + ', '.join(
            f'{name} {acc:.3f}'
            for name, acc in zip(levels, report[f'{key}_maps'])))
    return lines
