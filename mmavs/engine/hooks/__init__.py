# Copyright (c) mmavs contributors. All rights reserved.
from .freeze_backbone_hook import FreezeBackboneHook
from .negative_mask_warmup_hook import NegativeMaskWarmupHook, warmup_weight
from .robust_vis_hook import RobustVisualizationHook
from .save_predictions_hook import SavePredictionsHook
from .similarity_logger_hook import SimilarityLoggerHook
from .thread_schedule_hook import (CPUThreadScheduleHook, parse_thread_schedule,
                                   threads_at)

__all__ = [
    'CPUThreadScheduleHook', 'FreezeBackboneHook', 'NegativeMaskWarmupHook',
    'RobustVisualizationHook', 'SavePredictionsHook', 'SimilarityLoggerHook',
    'parse_thread_schedule', 'threads_at', 'warmup_weight'
]
