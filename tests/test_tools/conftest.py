# Copyright (c) mmavs contributors. All rights reserved.
"""A tiny SynthAVS tree for the end-to-end CLI tests (train/test/torchrun/tools)."""
import pytest

from mmavs.synth import SynthAVSConfig, generate_synth_avs

TINY_DATA = SynthAVSConfig(
    seed=3, s4_train=6, s4_val=2, s4_test=2, ms3_train=0, ms3_val=0, ms3_test=0, size=64)


@pytest.fixture(scope='session')
def tiny_synth_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('tools_data') / 'SynthAVS'
    generate_synth_avs(str(root), TINY_DATA, progress=False)
    return root
