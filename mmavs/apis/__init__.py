# Copyright (c) mmavs contributors. All rights reserved.
"""User-facing APIs: inference on your own frames/video/audio, and the analysis helpers of
``tools/infer.py`` and ``tools/analysis_tools/`` (gate calibration, similarity separability)."""
from .calibration import (DEFAULT_THRESHOLDS, GATE_STRATEGIES, choose_gate_threshold,
                          gated_report, json_safe, plot_gate_calibration, roc_auc,
                          sweep_gate_thresholds)
from .collect import ConditionResults, build_dataloader, collect_condition_results
from .gate_bootstrap import bootstrap_gate_thresholds
from .inference import (build_inference_pipeline, example_indices, frame_audio_examples,
                        frame_clip_examples, inference_avs, inference_pipeline_cfg,
                        init_avs_model, is_silent, read_checkpoint_meta, read_gate_thr)
from .video import (FRAME_EXTENSIONS, list_frame_files, probe_audio_track, pyav_available,
                    read_frame, read_video_audio, read_video_frames)

__all__ = [
    'init_avs_model', 'inference_avs', 'read_gate_thr', 'read_checkpoint_meta',
    'build_inference_pipeline', 'inference_pipeline_cfg', 'frame_audio_examples',
    'frame_clip_examples', 'example_indices', 'is_silent', 'list_frame_files', 'read_frame',
    'read_video_frames', 'read_video_audio', 'probe_audio_track', 'pyav_available',
    'FRAME_EXTENSIONS', 'collect_condition_results', 'ConditionResults', 'build_dataloader',
    'sweep_gate_thresholds', 'choose_gate_threshold', 'gated_report', 'roc_auc',
    'plot_gate_calibration', 'DEFAULT_THRESHOLDS', 'GATE_STRATEGIES', 'json_safe',
    'bootstrap_gate_thresholds'
]
