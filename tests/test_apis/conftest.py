# Copyright (c) mmavs contributors. All rights reserved.
"""Fixtures of the API tests: the tiny CPU model (random weights) and its checkpoint."""
import pytest
import torch

from mmavs_testing.apis import CONFIG


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread):
    """Every API test runs with one torch thread (see ``tests/conftest.py``)."""


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """A checkpoint of the randomly initialised tiny model (seeded), without gate meta."""
    from mmavs.apis import init_model
    torch.manual_seed(0)
    model = init_model(CONFIG)
    path = tmp_path_factory.mktemp('apis_ckpt') / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=0)), path)
    return path


@pytest.fixture(scope='module')
def tiny_model(tiny_checkpoint):
    from mmavs.apis import init_model
    return init_model(CONFIG, str(tiny_checkpoint))
