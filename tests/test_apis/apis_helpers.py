# Copyright (c) mmavs contributors. All rights reserved.
"""Constants shared by the API tests."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: The robust SynthAVS config (tiny CPU model, test pipeline Resize to 112 px).
CONFIG = REPO / 'configs' / 'synth' / 'robust_synth_s4.py'
