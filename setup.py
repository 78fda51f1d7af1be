# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs: robust audio-visual segmentation, an MMSegmentation 1.x plugin.

The supported install is ``bash tools/install.sh``: the OpenMMLab packages must be installed with
``--no-deps`` (they declare the GUI ``opencv-python``) and mmcv must be built with its compiled ops,
neither of which ``install_requires`` can express. ``install_requires`` lists the direct runtime
dependencies that are safe to resolve.
"""
import os
import os.path as osp
import shutil
import sys
from pathlib import Path

from setuptools import find_packages, setup

#: What MIM (``mim train/test mmavs ...``) reads from ``mmavs/.mim`` of an installed package.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    namespace = {}
    exec((Path(__file__).parent / 'mmavs' / 'version.py').read_text(), namespace)
    return namespace['__version__']


def add_mim_extension() -> None:
    """Put ``configs/``, ``tools/`` and ``model-index.yml`` into ``mmavs/.mim``.

    An editable install links them (edits stay visible), a wheel / sdist / plain install copies
    them, as OpenMMLab packages do; other commands leave ``.mim`` alone.
    """
    if {'develop', 'editable_wheel'} & set(sys.argv):
        mode = 'symlink'
    elif {'sdist', 'bdist_wheel', 'build', 'install'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    repo = Path(__file__).resolve().parent
    mim = repo / 'mmavs' / '.mim'
    mim.mkdir(exist_ok=True)
    for name in MIM_FILES:
        src, dst = repo / name, mim / name
        if dst.is_symlink() or dst.is_file():
            dst.unlink()
        elif dst.is_dir():
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim), dst, target_is_directory=src.is_dir())
        elif src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


add_mim_extension()
setup(
    name='mmavs',
    version=read_version(),
    description='Robust audio-visual segmentation (AVSBench-Robust) for MMSegmentation 1.x',
    long_description=(Path(__file__).parent / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    author='mmavs contributors',
    license='Apache License 2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['mmavs', 'mmavs.*']),
    include_package_data=True,
    # the 15 real recordings of AVSBench-Robust's 'unseen' condition
    package_data={
        'mmavs': [
            'resources/unseen_audio/*.wav', 'resources/unseen_audio/README.md',
            '.mim/model-index.yml', '.mim/configs/**/*.py', '.mim/configs/**/*.yaml',
            '.mim/configs/**/*.md', '.mim/tools/**/*.py', '.mim/tools/**/*.sh'
        ]
    },
    install_requires=[
        'torch>=2.0',
        'numpy>=1.26,<2.4',
        'opencv-python-headless',
        'soundfile>=0.12',
        'soxr>=0.3',
        'scipy',
        'matplotlib',
        'tqdm',
        'tensorboard',
    ],
    extras_require={
        'tests':
        ['pytest>=8', 'pytest-timeout', 'nbclient==0.11.0', 'nbformat==5.11.1', 'ipykernel==7.4.0'],
        # `mim train mmavs CONFIG`, `mim test mmavs CONFIG --checkpoint ...` (a wheel install)
        'mim': ['openmim==0.3.9'],
        # PVTv2 backbone, AVSegFormer head: mmdet and what mmdet.models needs to import (pinned as
        # in requirements/runtime.txt; mmdet's own requirements hold no opencv-python, no mmcv)
        'pvt': [
            'mmdet==3.3.0', 'pycocotools==2.0.11', 'shapely==2.2.0', 'six==1.17.0',
            'terminaltables==3.1.10'
        ],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
