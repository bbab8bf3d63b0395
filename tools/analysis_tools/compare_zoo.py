# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Put COCO results of distilled runs next to the OpenMMLab model zoo.

    python tools/analysis_tools/compare_zoo.py RUN [RUN ...]
        [--configs-dir configs]

RUN is a work dir of tools/train.py or tools/test.py (its ``<config>.py``
and the newest ``coco/bbox_mAP`` it logged are read), or a results JSON
(``<timestamp>.json`` of tools/test.py) inside one. The stock config is the
zoo config the plugin's config is named after (its name without the
method prefix, ``-`` and ``_`` alike: ``sssd_retinanet_r101_fpn_1x_coco``
-> ``retinanet_r101_fpn_1x_coco``), else the ``mmdet::`` base it inherits
(followed through relative ``_base_`` files); its box AP is read offline
from the ``metafile.yml`` files of the installed mmdet. Prints a Markdown
table.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import sys

# the folder of tools/ and configs/ (a checkout, or an install's .mim)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('runs', nargs='+')
    parser.add_argument('--configs-dir', default=osp.join(ROOT, 'configs'))
    return parser.parse_args()


def zoo_box_ap() -> dict:
    """{stock config name: box AP} from mmdet's installed metafiles."""
    import mmdet
    import yaml
    pattern = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', '*',
                       'metafile.yml')
    table = {}
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            meta = yaml.safe_load(f)
        models = meta.get('Models') or [] if isinstance(meta, dict) else []
        for model in models:
            for result in model.get('Results') or []:
                metrics = result.get('Metrics') or {}
                if (result.get('Task') == 'Object Detection'
                        and result.get('Dataset') == 'COCO'
                        and 'box AP' in metrics):
                    name = osp.splitext(osp.basename(model['Config']))[0]
                    table[name] = float(metrics['box AP'])
    return table


def named_stock_config(name: str, zoo: dict):
    """The zoo config ``name`` is named after (``<method>_<stock name>``),
    or None. An R-101 config inherits its R-50 sibling, so its name, not
    its base, says which stock model it is."""
    def key(n):
        return n.replace('-', '_')
    wanted = key(name.split('_', 1)[-1])
    return next((n for n in zoo if key(n) == wanted), None)


def stock_config(name: str, configs_dir: str, depth: int = 0):
    """The mmdet stock config a plugin config inherits, or None."""
    found = glob.glob(osp.join(configs_dir, '**', f'{name}.py'),
                      recursive=True)
    if not found or depth > 10:
        return None
    with open(found[0]) as f:
        match = re.search(r"^_base_\s*=\s*\[?\s*['\"]([^'\"]+)['\"]", f.read(),
                          re.M)
    if not match:
        return None
    base = match.group(1)
    base_name = osp.splitext(osp.basename(base))[0]
    if base.startswith('mmdet::'):
        return base_name
    return stock_config(base_name, configs_dir, depth + 1)


def read_run(path: str):
    """(config name, box AP in %) of a work dir or results JSON."""
    work_dir = path if osp.isdir(path) else osp.dirname(path)
    if osp.isfile(path):
        candidates = [path]
        # <work_dir>/<timestamp>/<timestamp>.json: the config is 1 level up
        work_dir = osp.dirname(work_dir) if not glob.glob(
            osp.join(work_dir, '*.py')) else work_dir
    else:
        candidates = sorted(
            glob.glob(osp.join(path, '*', '*.json')) +
            glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')),
            key=os.path.getmtime)
    ap = None
    for candidate in candidates:
        with open(candidate) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and 'coco/bbox_mAP' in record:
                    ap = 100 * float(record['coco/bbox_mAP'])
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    name = osp.splitext(osp.basename(configs[0]))[0] if configs else None
    return name, ap


def main():
    args = parse_args()
    zoo = zoo_box_ap()
    rows = ['| run | config | stock config | zoo box AP | run box AP | '
            'delta |', '|---|---|---|---|---|---|']
    for run in args.runs:
        name, ap = read_run(run)
        stock = name and (named_stock_config(name, zoo) or
                          stock_config(name, args.configs_dir))
        if name is None:
            note = 'no config file found beside the results'
        elif ap is None:
            note = 'no coco/bbox_mAP in the results'
        elif stock is None:
            note = f'{name} inherits no mmdet:: stock config'
        elif stock not in zoo:
            note = f'no model-zoo box AP for {stock}'
        else:
            rows.append(f'| {run} | {name} | {stock} | {zoo[stock]:.1f} | '
                        f'{ap:.1f} | {ap - zoo[stock]:+.1f} |')
            continue
        rows.append(f'| {run} | {name or "-"} | {stock or "-"} | - | '
                    f'{"-" if ap is None else f"{ap:.1f}"} | {note} |')
    print('\n'.join(rows))


if __name__ == '__main__':
    sys.exit(main())
