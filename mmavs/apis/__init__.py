# Copyright (c) mmavs contributors. All rights reserved.
"""User-facing inference on one's own frames, video and audio (``mmseg.apis`` style)."""
from .avs_inferencer import AVSInferencer, list_models, resolve_config
from .inference import (inference_avs, inference_model, inference_pipeline_cfg, init_avs_model,
                        init_model)

__all__ = [
    'AVSInferencer', 'list_models', 'resolve_config', 'init_model', 'inference_model',
    'inference_pipeline_cfg', 'init_avs_model', 'inference_avs'
]
