# Copyright (c) mmavs contributors. All rights reserved.
from .av_seg_visualization_hook import AVSegVisualizationHook
from .data_check_hook import DataCheckHook
from .freeze_backbone_hook import FreezeBackboneHook
from .negative_mask_warmup_hook import NegativeMaskWarmupHook, warmup_weight
from .rng_state_hook import RNGStateHook
from .robust_vis_hook import RobustVisualizationHook
from .save_predictions_hook import SavePredictionsHook
from .similarity_logger_hook import SimilarityLoggerHook

__all__ = [
    'AVSegVisualizationHook', 'DataCheckHook', 'FreezeBackboneHook', 'NegativeMaskWarmupHook',
    'RNGStateHook', 'RobustVisualizationHook', 'SavePredictionsHook', 'SimilarityLoggerHook',
    'warmup_weight'
]
