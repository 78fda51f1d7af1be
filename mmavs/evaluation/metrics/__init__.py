# Copyright (c) mmavs contributors. All rights reserved.
from .robust_avs_metric import RobustAVSMetric

__all__ = ['RobustAVSMetric']
