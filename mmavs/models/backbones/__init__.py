# Copyright (c) mmavs contributors. All rights reserved.
from .pvt_v2 import PVTv2

__all__ = ['PVTv2']
