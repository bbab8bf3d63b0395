# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""What a benchmark reads back from a run's work dir, on fixtures written
as mmengine and the tools write them."""
import json

from mmdet_sssd.benchmarking import (agnostic_test_options, curves, machine,
                                     read_scalars, read_test_metrics)
from mmdet_sssd.benchmarking.run_records import test_record as ap_record


def write_lines(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_scalars_curves_and_an_empty_metric_as_zero(tmp_path, capsys):
    # a label teacher's run: LabelTeacherValLoop in the dumped config
    (tmp_path / 'cfg.py').write_text(
        "val_cfg = dict(type='LabelTeacherValLoop')")
    write_lines(tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json', [
        dict(lr=0.1, iter=1, distill_coef=0.5, loss=1.0),
        {'coco/bbox_mAP': 0.25, 'teacher/coco/bbox_mAP': 0.5, 'step': 1},
        # no box passed the threshold: CocoMetric logged nothing
        {'step': 2}])
    train, val = read_scalars(str(tmp_path))
    assert 'no detections of coco at validation 2' in capsys.readouterr().out
    run = curves(train, val)
    assert run['val_ap'] == [25.0, 0.0]
    assert run['teacher_val_ap'] == [50.0, 0.0]
    assert run['agnostic_val_ap'] is None
    assert run['schedule'] == [(1, 0.5, 0.1)]


def test_train_losses_per_epoch():
    from mmdet_sssd.benchmarking.run_records import epoch_means
    train = [dict(lr=0.1, iter=1, epoch=1, loss=2.0, loss_cls=1.0,
                  distill_coef=10.0),
             dict(lr=0.1, iter=2, epoch=1, loss=4.0, loss_cls=3.0,
                  distill_coef=10.0),
             dict(lr=0.1, iter=3, epoch=2, loss=1.0, loss_cls=0.5,
                  **{'teacher.loss_cls': 0.25}, distill_coef=20.0)]
    assert epoch_means(train) == {'loss': [3.0, 1.0],
                                  'loss_cls': [2.0, 0.5],
                                  'distill_coef': [10.0, 20.0],
                                  'teacher.loss_cls': [None, 0.25]}
    # an iteration-based run logs no epoch
    assert epoch_means([dict(lr=0.1, iter=1, loss=1.0)]) is None
    assert curves(train, [])['train_loss']['loss'] == [3.0, 1.0]


def test_test_metrics_of_the_newest_scoring(tmp_path):
    (tmp_path / 'cfg.py').write_text('model = dict()')
    old = {'coco/' + k: 0.1 for k in ('bbox_mAP', 'bbox_mAP_50',
                                      'bbox_mAP_75', 'bbox_mAP_s',
                                      'bbox_mAP_m', 'bbox_mAP_l')}
    new = dict(old, **{'coco/bbox_mAP': 0.4, 'coco/bbox_mAP_l': -1})
    write_lines(tmp_path / 'test' / '20260101_000000' / 'a.json', [old])
    write_lines(tmp_path / 'test' / '20260102_000000' / 'b.json', [new])
    record = ap_record(read_test_metrics(str(tmp_path)))
    # -1: no object of that size in the test set
    assert record == dict(AP=40.0, AP50=10.0, AP75=10.0, APs=10.0,
                          APm=10.0, APl=None)
    # the teacher's and the class-agnostic scorings: every metric each,
    # so that box precision (AP75) and sizes can be compared
    agnostic = {k.replace('coco/', 'coco_agnostic/'): v
                for k, v in new.items()}
    teacher = {k.replace('coco/', 'teacher/coco_agnostic/'): 0.2
               for k in old}
    record = ap_record(dict(new, **agnostic, **teacher))
    assert record['agnostic_AP'] == 40.0 and record['agnostic_APl'] is None
    assert record['teacher_agnostic_AP75'] == 20.0
    assert 'teacher_AP' not in record  # no class-aware teacher scoring
    assert len(record) == 3 * 6


def test_machine_in_words():
    assert machine('cpu').endswith('cores, CPU only')


def test_code_version_only_of_a_checkouts_top(tmp_path):
    import subprocess
    from mmdet_sssd.benchmarking.run_records import code_version

    def git(*args):
        subprocess.run(['git', *args], cwd=tmp_path, check=True,
                       capture_output=True)

    git('init', '-q')
    (tmp_path / 'a.txt').write_text('a')
    git('add', 'a.txt')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'a')
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                            cwd=tmp_path, capture_output=True,
                            text=True).stdout.strip()
    assert code_version(str(tmp_path)) == commit
    (tmp_path / 'a.txt').write_text('b')
    assert code_version(str(tmp_path)) == commit + '-dirty'
    # a folder inside another repository (site-packages inside pyenv's
    # checkout) is not that repository's code
    inner = tmp_path / 'lib' / 'site-packages'
    inner.mkdir(parents=True)
    assert code_version(str(inner)) is None
    assert code_version(str(tmp_path / 'missing')) is None


def test_cpu_model_names_the_generation():
    from mmdet_sssd.benchmarking.run_records import cpu_model
    block = ('processor\t: {n}\nvendor_id\t: AuthenticAMD\ncpu family\t: '
             '{f}\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\n\n')
    # two processors: the first one's numbers
    text = block.format(n=0, f=26) + block.format(n=1, f=25)
    assert cpu_model(text) == 'AMD EPYC (family 26, model 2)'
    assert cpu_model('model name\t: Some CPU\n') == 'Some CPU'
    assert cpu_model('processor\t: 0\n') is None


def test_which_runs_get_a_class_agnostic_scoring_of_their_own(tmp_path):
    from mmengine.config import Config

    def run_dir(name, text):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'cfg.py').write_text(text)
        return str(tmp_path / name)
    coco = ("test_evaluator = dict(type='CocoMetric', ann_file='t.json', "
            "prefix='coco')\n")
    # a plain detector scored by CocoMetric: its type and prefix replaced
    options = agnostic_test_options(run_dir('plain', coco))
    assert options == ['test_evaluator.type=ClassAgnosticCocoMetric',
                       'test_evaluator.prefix=coco_agnostic']
    cfg = Config.fromfile(str(tmp_path / 'plain' / 'cfg.py'))
    cfg.merge_from_dict(dict(o.split('=') for o in options))
    assert cfg.test_evaluator == dict(type='ClassAgnosticCocoMetric',
                                      ann_file='t.json',
                                      prefix='coco_agnostic')
    # a list of one CocoMetric: its first item's
    listed = run_dir('listed', coco.replace("= dict(", "= [dict(").replace(
        ")\n", ")]\n"))
    options = agnostic_test_options(listed)
    cfg = Config.fromfile(listed + '/cfg.py')
    cfg.merge_from_dict(dict(o.split('=') for o in options))
    assert cfg.test_evaluator[0]['type'] == 'ClassAgnosticCocoMetric'
    # another metric has no class-agnostic copy: none
    assert agnostic_test_options(run_dir('voc', coco.replace(
        'CocoMetric', 'VOCMetric'))) == []
    # a label teacher's scoring has its class-agnostic AP already: none
    assert agnostic_test_options(run_dir('teacher', coco + (
        "val_cfg = dict(type='LabelTeacherValLoop')\n"))) == []
