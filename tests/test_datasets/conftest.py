# Copyright (c) mmavs contributors. All rights reserved.
"""A tiny SynthAVS tree (64 px, 3 S4 and 2 MS3 videos per split), generated once per session.

Tests that damage a tree work on a copy (``tiny_tree_copy``), never on the shared one.
"""
import shutil

import pytest
from mmengine.registry import init_default_scope

import mmavs.datasets  # noqa: F401  (registration)
import mmavs.models.data_preprocessor  # noqa: F401
from mmavs.synth import SynthAVSConfig, generate_synth_avs

TINY_CFG = SynthAVSConfig(
    seed=0, s4_train=3, s4_val=3, s4_test=3, ms3_train=2, ms3_val=2, ms3_test=2, size=64)


@pytest.fixture(autouse=True, scope='session')
def mmseg_scope():
    """Components are looked up in the ``mmseg`` scope."""
    init_default_scope('mmseg')


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
