# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""model-index.yml (what ``mim search`` and model-zoo tooling read) lists
every shipped config once, and everything it lists exists."""
import glob
import os.path as osp

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT).replace(osp.sep, '/')
    for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
    if '_base_' not in p)
FOLDERS = sorted({osp.dirname(p) for p in CONFIGS})


def read(path):
    with open(osp.join(ROOT, path)) as f:
        return yaml.safe_load(f)


def metafiles():
    return read('model-index.yml')['Import']


def models():
    return [(meta, model) for meta in metafiles()
            for model in read(meta)['Models']]


def test_every_config_folder_is_imported():
    assert sorted(osp.dirname(m) for m in metafiles()) == FOLDERS
    for meta in metafiles():
        assert osp.isfile(osp.join(ROOT, meta)), meta


def test_every_config_is_listed_once_and_exists():
    listed = [model['Config'] for _, model in models()]
    assert sorted(listed) == CONFIGS, (
        f'missing from the metafiles: {sorted(set(CONFIGS) - set(listed))}; '
        f'listed but absent: {sorted(set(listed) - set(CONFIGS))}')


def test_entries_follow_mmdet_schema():
    for meta in metafiles():
        data = read(meta)
        folder = osp.dirname(meta)
        collections = {c['Name']: c for c in data['Collections']}
        for collection in collections.values():
            assert collection['README'] == f'{folder}/README.md'
            assert osp.isfile(osp.join(ROOT, collection['README']))
            assert osp.isfile(osp.join(ROOT, collection['Code']['URL']))
            assert collection['Paper']['URL'].startswith('https://')
        names = [model['Name'] for model in data['Models']]
        assert len(set(names)) == len(names), meta
        for model in data['Models']:
            assert model['Name'] == osp.splitext(
                osp.basename(model['Config']))[0]
            assert osp.dirname(model['Config']) == folder
            assert model['In Collection'] in collections
            # no run, no number: results appear only with a checkpoint
            if 'Results' in model or 'Weights' in model:
                assert model.get('Weights'), model['Name']


def test_every_config_is_in_its_readme():
    for folder in FOLDERS:
        with open(osp.join(ROOT, folder, 'README.md')) as f:
            text = f.read()
        for path in CONFIGS:
            if osp.dirname(path) == folder:
                assert osp.basename(path) in text, (folder, path)


def test_modelindex_reads_it():
    modelindex = pytest.importorskip('modelindex')
    index = modelindex.load(osp.join(ROOT, 'model-index.yml'))
    names = {model.name for model in index.models}
    assert names == {osp.splitext(osp.basename(p))[0] for p in CONFIGS}
