# Copyright (c) mmavs contributors. All rights reserved.
"""Test-session set-up: import mmavs first so its environment fixes apply before mmengine/mmseg."""
import os

os.environ.setdefault('MPLBACKEND', 'Agg')

import mmavs  # noqa: E402,F401


import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(scope='module')
def one_torch_thread():
    """One intra-op thread for a module: stable and fast on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
