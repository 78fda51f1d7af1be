# Copyright (c) mmavs contributors. All rights reserved.
"""Fixtures of the audio tests: the numpy VGGish reference and the shared real recordings."""
import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
# the shared data folder sits beside the repository (../shared), in CI as on dev machines
UNSEEN_AUDIO_DIR = REPO_ROOT.parent / 'shared' / 'data' / 'unseen_audio'


def load_numpy_reference():
    """Import ``vggish_numpy_reference.py`` by path (works under every pytest import mode)."""
    spec = importlib.util.spec_from_file_location('mmavs_test_vggish_numpy_reference',
                                                  HERE / 'vggish_numpy_reference.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def vggish_ref():
    """The plain-numpy VGGish reference module."""
    return load_numpy_reference()


@pytest.fixture(scope='session')
def unseen_audio_files():
    """The real stereo recordings of ``../shared/data/unseen_audio``; skip if absent."""
    files = sorted(UNSEEN_AUDIO_DIR.glob('*.wav')) if UNSEEN_AUDIO_DIR.is_dir() else []
    if not files:
        pytest.skip(f'real recordings not found in {UNSEEN_AUDIO_DIR}')
    return files
