# Copyright (c) mmavs contributors. All rights reserved.
"""AVS evaluation: pure metric functions (:mod:`.functional`), the robustness table
(:mod:`.report`), the registered ``RobustAVSMetric``, a Runner-free evaluation loop
(:mod:`.collect`) and the gate calibration built on it (:mod:`.calibration`,
:mod:`.gate_bootstrap`)."""
from .calibration import (DEFAULT_THRESHOLDS, GATE_STRATEGIES, choose_gate_threshold, gated_report,
                          roc_auc, sweep_gate_thresholds)
from .collect import ConditionResults, build_dataloader, collect_condition_results
from .functional import (false_alarm_rate, false_positive_rate, frame_statistics, fscore,
                         gate_statistics, global_metrics, harmonic_mean, jaccard, reduce_statistics)
from .gate_bootstrap import bootstrap_gate_thresholds
from .metrics import RobustAVSMetric
from .report import (build_report, flatten_report, format_grouped_table, format_markdown,
                     format_table, report_from_metrics)

__all__ = [
    'jaccard', 'fscore', 'false_positive_rate', 'false_alarm_rate', 'frame_statistics',
    'reduce_statistics', 'gate_statistics', 'global_metrics', 'harmonic_mean', 'RobustAVSMetric',
    'build_report', 'flatten_report', 'report_from_metrics', 'format_table', 'format_markdown',
    'format_grouped_table', 'ConditionResults', 'build_dataloader', 'collect_condition_results',
    'DEFAULT_THRESHOLDS', 'GATE_STRATEGIES', 'choose_gate_threshold', 'gated_report', 'roc_auc',
    'sweep_gate_thresholds', 'bootstrap_gate_thresholds'
]
