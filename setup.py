# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs: robust audio-visual segmentation, an MMSegmentation 1.x plugin.

The supported install is ``bash tools/install.sh``: the OpenMMLab packages must be installed with
``--no-deps`` (they declare the GUI ``opencv-python``) and mmcv must be built with its compiled ops,
neither of which ``install_requires`` can express. ``install_requires`` lists the direct runtime
dependencies that are safe to resolve.
"""
from pathlib import Path

from setuptools import find_packages, setup


def read_version() -> str:
    namespace = {}
    exec((Path(__file__).parent / 'mmavs' / 'version.py').read_text(), namespace)
    return namespace['__version__']


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
    package_data={'mmavs': ['resources/unseen_audio/*.wav', 'resources/unseen_audio/README.md']},
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
        'tests': ['pytest>=8', 'pytest-timeout'],
        # PVTv2 backbone; mmdet's own requirements are safe to resolve (no opencv-python, no mmcv)
        'pvt': ['mmdet==3.3.0'],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
