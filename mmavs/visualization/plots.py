# Copyright (c) mmavs contributors. All rights reserved.
"""Pure plotting functions for robust AVS results (matplotlib, Agg canvas, no pyplot).

Used by :class:`mmavs.engine.hooks.RobustVisualizationHook` (``tools/test.py --show-dir``), the
main job and the analysis tools. Figures are drawn on an Agg canvas directly (no global backend
switch, no window), each function writes one PNG and returns its path.

* :func:`overlay_mask`: one frame with its predicted mask (and ground-truth outline) blended in;
* :func:`overlay_grid`: frames x audio conditions, like Fig. 1 of the paper;
* :func:`plot_condition_bars`: FPR / false alarm / mIoU per condition;
* :func:`plot_similarity_histogram`: similarity of positive vs. negative pairs (Fig. 4);
* :func:`plot_gate_calibration`: the gated metrics against the gate threshold.
"""
import os
import os.path as osp
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

Color = Tuple[int, int, int]
PRED_COLOR: Color = (255, 48, 48)
GT_COLOR: Color = (48, 255, 48)
#: Bar colours per metric.
METRIC_COLORS = {'FPR': '#d62728', 'false_alarm': '#ff7f0e', 'mIoU': '#1f77b4', 'F': '#2ca02c'}


def _save(fig: Figure, out_path: str) -> str:
    out_dir = osp.dirname(osp.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(out_path, dpi=fig.dpi)
    return out_path


def _resize_nearest(mask: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a 2-D array to ``shape`` (H, W)."""
    if mask.shape == tuple(shape):
        return mask
    rows = np.arange(shape[0]) * mask.shape[0] // shape[0]
    cols = np.arange(shape[1]) * mask.shape[1] // shape[1]
    return mask[rows][:, cols]


def _outline(mask: np.ndarray) -> np.ndarray:
    """Boundary pixels of a bool mask (pixels with a 4-neighbour outside the mask)."""
    padded = np.pad(mask, 1, mode='constant', constant_values=False)
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    return mask & ~interior


def overlay_mask(image: np.ndarray,
                 mask: Optional[np.ndarray],
                 gt: Optional[np.ndarray] = None,
                 color: Color = PRED_COLOR,
                 gt_color: Color = GT_COLOR,
                 alpha: float = 0.5) -> np.ndarray:
    """Blend a predicted mask into an image and draw the ground-truth outline.

    Args:
        image (np.ndarray): ``[H, W, 3]`` uint8 RGB (or ``[H, W]`` gray).
        mask (np.ndarray, optional): ``[h, w]`` predicted mask (nonzero = sounding); resized
            (nearest) to the image when sizes differ.
        gt (np.ndarray, optional): ``[h, w]`` ground-truth mask, drawn as an outline.
        color (tuple): RGB of the prediction. Defaults to red.
        gt_color (tuple): RGB of the ground-truth outline. Defaults to green.
        alpha (float): Opacity of the prediction, in [0, 1]. Defaults to 0.5.

    Returns:
        np.ndarray: ``[H, W, 3]`` uint8 RGB.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected an image [H, W, 3], found shape {image.shape}')
    out = image.astype(np.float32)
    size = image.shape[:2]
    if mask is not None:
        m = _resize_nearest(np.asarray(mask) != 0, size)
        out[m] = (1 - alpha) * out[m] + alpha * np.asarray(color, np.float32)
    if gt is not None:
        edge = _outline(_resize_nearest(np.asarray(gt) != 0, size))
        out[edge] = np.asarray(gt_color, np.float32)
    return out.round().clip(0, 255).astype(np.uint8)


Cell = Union[None, np.ndarray, Mapping]


def overlay_grid(rows: Sequence[Sequence[Cell]],
                 out_path: str,
                 col_titles: Optional[Sequence[str]] = None,
                 row_titles: Optional[Sequence[str]] = None,
                 cell_inches: float = 2.0) -> str:
    """Write a grid of frame overlays (rows: clips/frames, columns: audio conditions).

    Args:
        rows (sequence of sequences): ``rows[i][j]`` is a cell: None (left blank), an RGB image
            ``[H, W, 3]`` uint8 (shown as is), or a dict with ``image`` and optional ``mask``
            (prediction), ``gt`` and ``title``, overlaid with :func:`overlay_mask`.
        out_path (str): PNG path (parent folders are created).
        col_titles (sequence of str, optional): Column headers, e.g. condition names.
        row_titles (sequence of str, optional): Row labels, e.g. ``'<video> #<frame>'``.
        cell_inches (float): Size of one cell in inches. Defaults to 2.

    Returns:
        str: ``out_path``.
    """
    if not rows or not any(len(r) for r in rows):
        raise ValueError(f'expected at least one cell for {out_path}, found none')
    num_rows, num_cols = len(rows), max(len(r) for r in rows)
    fig = Figure(figsize=(cell_inches * num_cols, cell_inches * num_rows + 0.3), dpi=100)
    axes = fig.subplots(num_rows, num_cols, squeeze=False)
    for i in range(num_rows):
        for j in range(num_cols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            cell = rows[i][j] if j < len(rows[i]) else None
            if cell is None:
                ax.axis('off')
                continue
            title = None
            if isinstance(cell, Mapping):
                title = cell.get('title')
                cell = overlay_mask(cell['image'], cell.get('mask'), cell.get('gt'))
            ax.imshow(np.asarray(cell))
            if title:
                ax.set_xlabel(title, fontsize=8)
            if i == 0 and col_titles and j < len(col_titles):
                ax.set_title(col_titles[j], fontsize=10)
            if j == 0 and row_titles and i < len(row_titles):
                ax.set_ylabel(row_titles[i], fontsize=8)
    fig.tight_layout()
    return _save(fig, out_path)


def plot_condition_bars(table: Mapping,
                        out_path: str,
                        metrics: Sequence[str] = ('FPR', 'false_alarm', 'mIoU'),
                        title: str = 'Robust AVS metrics per audio condition') -> str:
    """Grouped bar chart: one group per condition, one bar per metric (fractions in [0, 1]).

    Args:
        table (Mapping): ``{condition: {metric: value}}``, or a report of
            :func:`mmavs.evaluation.build_report` (its ``conditions`` are used). Missing or NaN
            values leave their bar out (e.g. mIoU under a negative condition).
        out_path (str): PNG path.
        metrics (sequence of str): Metrics to draw. Defaults to FPR, false alarm, mIoU.
        title (str): Figure title.

    Returns:
        str: ``out_path``.
    """
    if 'conditions' in table and isinstance(table['conditions'], Mapping):
        table = table['conditions']
    conditions = list(table)
    if not conditions:
        raise ValueError(f'expected at least one condition for {out_path}, found none')
    width = 0.8 / max(len(metrics), 1)
    fig = Figure(figsize=(max(4.0, 1.4 * len(conditions) + 1.5), 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(conditions))
    for k, metric in enumerate(metrics):
        values = np.array([float(table[c].get(metric, np.nan)) for c in conditions])
        shown = ~np.isnan(values)
        pos = x + (k - (len(metrics) - 1) / 2) * width
        bars = ax.bar(
            pos[shown],
            values[shown],
            width,
            label=metric.replace('_', ' '),
            color=METRIC_COLORS.get(metric))
        ax.bar_label(bars, fmt='%.3f', fontsize=7, padding=1)
    ax.set_xticks(x)
    ax.set_xticklabels(conditions)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel('fraction')
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc='upper right')
    fig.tight_layout()
    return _save(fig, out_path)


def similarity_histogram_figure(pos_scores: Sequence[float],
                                neg_scores: Union[Sequence[float], Dict[str, Sequence[float]]],
                                title: str = 'Audio-visual similarity: positive vs. negative pairs',
                                bins: int = 40,
                                threshold: Optional[float] = None,
                                where: str = '') -> Figure:
    """The figure of :func:`plot_similarity_histogram` (for callers that need pixels, not a file).

    Args:
        where (str): Context for the error message when there are no scores.
    """
    groups = {'positive': np.asarray(pos_scores, dtype=np.float64).ravel()}
    if isinstance(neg_scores, Mapping):
        for name, scores in neg_scores.items():
            groups[name] = np.asarray(scores, dtype=np.float64).ravel()
    else:
        groups['negative'] = np.asarray(neg_scores, dtype=np.float64).ravel()
    groups = {k: v[~np.isnan(v)] for k, v in groups.items()}
    if not any(v.size for v in groups.values()):
        raise ValueError(f'expected similarity scores{where}, found none')
    fig = Figure(figsize=(6.0, 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    edges = np.linspace(0, 1, bins + 1)
    # Positives are green; negatives take the other tab10 colours (never green).
    negative_colors = iter([
        '#d62728', '#1f77b4', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22',
        '#17becf'
    ] * 4)
    for name, scores in groups.items():
        if scores.size == 0:
            continue
        ax.hist(
            scores,
            bins=edges,
            density=True,
            alpha=0.45,
            label=f'{name} (n={scores.size})',
            color='#2ca02c' if name == 'positive' else next(negative_colors))
    if threshold is not None:
        ax.axvline(threshold, color='k', linestyle='--', linewidth=1, label=f'gate {threshold:g}')
    ax.set_xlim(0, 1)
    ax.set_xlabel('similarity probability')
    ax.set_ylabel('density')
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render a figure to an RGB ``[H, W, 3]`` uint8 array (e.g. for ``visualizer.add_image``)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def plot_similarity_histogram(pos_scores: Sequence[float],
                              neg_scores: Union[Sequence[float], Dict[str, Sequence[float]]],
                              out_path: str,
                              title: str = 'Audio-visual similarity: positive vs. negative pairs',
                              bins: int = 40,
                              threshold: Optional[float] = None) -> str:
    """Histograms of similarity probabilities of positive and negative pairs (Fig. 4).

    Args:
        pos_scores (sequence of float): Scores in [0, 1] of positive (true audio) pairs.
        neg_scores (sequence of float or dict): Scores of negative pairs, or
            ``{condition: scores}`` to draw one histogram per negative condition.
        out_path (str): PNG path.
        title (str): Figure title.
        bins (int): Bins over [0, 1]. Defaults to 40.
        threshold (float, optional): A gating threshold, drawn as a vertical line.

    Returns:
        str: ``out_path``.
    """
    fig = similarity_histogram_figure(
        pos_scores, neg_scores, title, bins, threshold, where=f' for {out_path}')
    return _save(fig, out_path)


def plot_gate_calibration(sweep: Sequence[dict],
                          chosen: dict,
                          out_path: str,
                          title: str = 'Gating threshold calibration',
                          spread: Optional[Sequence[float]] = None) -> str:
    """Positive mIoU, G-FPR and G-false_alarm (and G-mIoU) against the threshold, PNG.

    The chosen threshold is a vertical line; the mIoU bound a dotted horizontal line; ``spread``
    (``(low, high)``, e.g. the 5-95 % range of
    :func:`mmavs.evaluation.gate_bootstrap.bootstrap_gate_thresholds`) a
    shaded band.

    Returns:
        str: ``out_path``.
    """
    x = [r['threshold'] for r in sweep]
    fig = Figure(figsize=(6.4, 4.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    curves = (('positive_mIoU', 'positive mIoU', '#1f77b4', '-'),
              ('G-FPR', 'G-FPR', '#d62728', '-'), ('G-false_alarm', 'G-false alarm', '#ff7f0e',
                                                   '--'), ('G-mIoU', 'G-mIoU', '#9467bd', ':'))
    for key, label, color, style in curves:
        ax.plot(x, [r[key] for r in sweep], style, color=color, label=label, linewidth=1.5)
    thr = chosen['threshold']
    ax.axvline(thr, color='k', linewidth=1, label=f'chosen {thr:g}')
    if spread is not None:
        low, high = spread
        ax.axvspan(low, high, color='0.85', zorder=0, label=f'bootstrap 5-95 % {low:g}-{high:g}')
    ax.axhline(
        chosen['min_positive_mIoU'],
        color='#1f77b4',
        linestyle=':',
        linewidth=0.8,
        label='mIoU bound')
    row = chosen['row']
    ax.plot([thr, thr], [row['positive_mIoU'], row['G-FPR']], 'ko', markersize=4)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel('gate threshold on the similarity probability')
    ax.set_ylabel('fraction')
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc='upper center', bbox_to_anchor=(0.5, -0.14), ncol=3)
    fig.tight_layout()
    return _save(fig, out_path)
