# Copyright (c) mmavs contributors. All rights reserved.
"""Fixtures of the AVSBench-Robust tests: a tiny SynthAVS tree, unseen recordings, toy datasets."""
import shutil

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmavs.datasets.robust  # noqa: F401  (registers the wrappers and samplers)
from mmavs.synth import generate_synth_avs
from mmavs_testing.robust import TINY_SYNTH, ToyFrameDataset, write_wav


@pytest.fixture(autouse=True)
def _mmseg_scope():
    init_default_scope('mmseg')


@pytest.fixture(scope='session')
def synth_source(tmp_path_factory):
    """A tiny SynthAVS tree, generated once; copy it (``synth_root``) before writing into it."""
    root = str(tmp_path_factory.mktemp('synth') / 'SynthAVS')
    generate_synth_avs(root, TINY_SYNTH, workers=1, progress=False)
    return root


@pytest.fixture
def synth_root(synth_source, tmp_path):
    """A private copy of the tiny SynthAVS tree."""
    root = str(tmp_path / 'SynthAVS')
    shutil.copytree(synth_source, root)
    return root


@pytest.fixture(scope='session')
def unseen_dir(tmp_path_factory):
    """Two 'unseen' recordings: stereo 44.1 kHz and 48 kHz, 16-bit, 5 s and 3 s."""
    folder = tmp_path_factory.mktemp('unseen')
    rng = np.random.default_rng(0)
    for name, sr, seconds in (('chirp.wav', 44100, 5.0), ('hum.wav', 48000, 3.0)):
        t = np.arange(int(sr * seconds)) / sr
        left = 0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t)
        right = 0.1 * rng.standard_normal(t.size)
        write_wav(folder / name, np.stack([left, right], axis=1), sr, subtype='PCM_16')
    (folder / 'notes.txt').write_text('not audio')
    return str(folder)


@pytest.fixture
def toy_dataset(tmp_path):
    """Factory of :class:`ToyFrameDataset` writing its wavs under ``tmp_path``."""

    def make(num_videos, **kwargs):
        return ToyFrameDataset(num_videos, str(tmp_path), **kwargs)

    return make
