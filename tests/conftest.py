# Copyright (c) mmavs contributors. All rights reserved.
"""Test-session set-up: import mmavs first so its environment fixes apply before mmengine/mmseg."""
import os

os.environ.setdefault('MPLBACKEND', 'Agg')

import mmavs  # noqa: E402,F401
