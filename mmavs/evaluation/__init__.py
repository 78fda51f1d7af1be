# Copyright (c) mmavs contributors. All rights reserved.
"""AVS evaluation: pure metric functions (:mod:`.functional`), the robustness table
(:mod:`.report`) and the registered ``RobustAVSMetric``."""
from .functional import (false_alarm_rate, false_positive_rate, frame_statistics, fscore,
                         gate_statistics, global_metrics, harmonic_mean, jaccard, reduce_statistics)
from .metrics import RobustAVSMetric
from .report import build_report, flatten_report, format_markdown, format_table, report_from_metrics

__all__ = [
    'jaccard', 'fscore', 'false_positive_rate', 'false_alarm_rate', 'frame_statistics',
    'reduce_statistics', 'gate_statistics', 'global_metrics', 'harmonic_mean', 'RobustAVSMetric',
    'build_report', 'flatten_report', 'report_from_metrics', 'format_table', 'format_markdown'
]
