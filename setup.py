"""Install mmdet_sssd.

``mim train mmdet_sssd <cfg>`` finds the training script and configs under
``mmdet_sssd/.mim/{tools,configs}`` of the installed package. As in OpenMMLab's
own packages they are symlinks for editable installs and copies in wheels.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('tools', 'configs', 'requirements', 'requirements.txt',
             'model-index.yml')


def add_mim_extension():
    editable = any(cmd in sys.argv for cmd in ('develop', 'editable_wheel'))
    building = any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist', 'build'))
    if not (editable or building):
        return
    mim_dir = osp.join(HERE, 'mmdet_sssd', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if editable:
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


def get_version():
    scope = {}
    with open(osp.join(HERE, 'mmdet_sssd', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def parse_requirements(fname):
    reqs = []
    with open(osp.join(HERE, 'requirements', fname)) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmdet_sssd',
        version=get_version(),
        description='Smooth and Stepwise Self-Distillation for MMDetection 3.x',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        license='Apache License 2.0',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={'mmdet_sssd': ['.mim/**/*', '.mim/*']},
        python_requires='>=3.8',
        install_requires=parse_requirements('runtime.txt'),
        extras_require={
            'tests': parse_requirements('tests.txt'),
            'optional': parse_requirements('optional.txt'),
            'mim': parse_requirements('mim.txt'),
        },
        zip_safe=False)
