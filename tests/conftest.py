# Copyright (c) mmavs contributors. All rights reserved.
"""Test-session set-up and the fixtures shared across the test tree.

``import mmavs`` comes first so its environment fixes apply before mmengine/mmseg build anything.
Helpers shared by several test folders live in the ``mmavs_testing`` package beside this file.
"""
import os

os.environ.setdefault('MPLBACKEND', 'Agg')

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmavs  # noqa: E402,F401
from mmavs.datasets.robust.waveforms import DEFAULT_UNSEEN_DIR  # noqa: E402
from mmavs.synth import SynthAVSConfig, generate_synth_avs  # noqa: E402

#: The shared tiny SynthAVS tree of the dataset and model tests (64 px).
TINY_CFG = SynthAVSConfig(
    seed=0, s4_train=3, s4_val=3, s4_test=3, ms3_train=2, ms3_val=2, ms3_test=2, size=64)
#: The tiny SynthAVS tree of the end-to-end CLI tests (S4 only).
TOOLS_DATA = SynthAVSConfig(
    seed=3, s4_train=6, s4_val=2, s4_test=2, ms3_train=0, ms3_val=0, ms3_test=0, size=64)


@pytest.fixture(autouse=True, scope='session')
def mmseg_scope():
    """Components are looked up in the ``mmseg`` scope (``mmpretrain.X`` by prefix)."""
    init_default_scope('mmseg')


@pytest.fixture(autouse=True)
def fixed_seed():
    """Random initialisation and data are the same whatever the test order."""
    torch.manual_seed(0)


@pytest.fixture(scope='module')
def one_torch_thread():
    """One intra-op thread for a module: stable and fast on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='session')
def vggish_ref():
    """The plain-numpy VGGish reference module (``mmavs_testing.vggish_numpy_reference``)."""
    from mmavs_testing import vggish_numpy_reference
    return vggish_numpy_reference


@pytest.fixture(scope='session')
def unseen_audio_files():
    """The 15 real recordings shipped with mmavs; a missing one is a failure, not a skip."""
    files = sorted(Path(DEFAULT_UNSEEN_DIR).glob('*.wav'))
    assert len(files) == 15, f'expected the 15 shipped recordings in {DEFAULT_UNSEEN_DIR}'
    return files


@pytest.fixture(scope='session')
def tiny_cfg():
    """Arguments of the shared tiny tree."""
    return TINY_CFG


@pytest.fixture(scope='session')
def tiny_root(tmp_path_factory):
    """Path of the shared tiny SynthAVS root (read-only by convention)."""
    root = tmp_path_factory.mktemp('synth_tiny') / 'SynthAVS'
    generate_synth_avs(str(root), TINY_CFG, progress=False)
    return root


@pytest.fixture
def tiny_tree_copy(tiny_root, tmp_path):
    """A private copy of the tiny tree that a test may damage."""
    dst = tmp_path / 'SynthAVS'
    shutil.copytree(tiny_root, dst)
    return dst


@pytest.fixture(scope='session')
def tiny_synth_root(tmp_path_factory):
    """The tiny S4 SynthAVS tree of the end-to-end CLI tests."""
    root = tmp_path_factory.mktemp('tools_data') / 'SynthAVS'
    generate_synth_avs(str(root), TOOLS_DATA, progress=False)
    return root
