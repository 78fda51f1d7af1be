# Copyright (c) mmavs contributors. All rights reserved.
"""Helpers shared by the mmavs test folders (importable because ``tests/`` holds the conftest)."""
from pathlib import Path

#: The repository root.
REPO = Path(__file__).resolve().parents[2]
#: The main job's configs (tiny TPAVI model, SynthAVS S4): debiased and positive-only.
ROBUST_S4 = REPO / 'configs' / 'tpavi' / (
    'tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112.py')
BASELINE_S4 = REPO / 'configs' / 'tpavi' / 'tpavi_mit-tiny_1xb16-60e_synthavs-s4-112x112.py'
