# Copyright (c) mmavs contributors. All rights reserved.
"""Fixtures of the model tests: the ``mmseg`` default scope and a fixed seed per test."""
import pytest
import torch
from mmengine.registry import init_default_scope

import mmavs.engine.hooks  # noqa: F401  (registration)
import mmavs.models  # noqa: F401  (registration)


@pytest.fixture(autouse=True, scope='session')
def mmseg_scope():
    """Components are looked up in the ``mmseg`` scope (``mmpretrain.X`` by prefix)."""
    init_default_scope('mmseg')


@pytest.fixture(autouse=True)
def fixed_seed():
    """Random initialisation and data are the same whatever the test order."""
    torch.manual_seed(0)
