# Copyright (c) mmavs contributors. All rights reserved.
"""Figures of robust AVS results: overlays, per-condition bars, similarity histograms, the gate
calibration curve; readable per-sample overlays (:mod:`.overlays`)."""
from .overlays import (draw_mask, log_mel_image, render_grid, render_overlay, similarity_strip,
                       waveform_image)
from .plots import (figure_to_array, overlay_grid, overlay_mask, plot_condition_bars,
                    plot_gate_calibration, plot_similarity_histogram, similarity_histogram_figure)

__all__ = [
    'overlay_mask', 'overlay_grid', 'plot_condition_bars', 'plot_similarity_histogram',
    'similarity_histogram_figure', 'figure_to_array', 'plot_gate_calibration', 'draw_mask',
    'render_overlay', 'render_grid', 'log_mel_image', 'waveform_image', 'similarity_strip'
]
