# Copyright (c) mmavs contributors. All rights reserved.
"""Log how the audio-visual similarity separates positives from negatives (paper's Fig. 4).

During validation (and test) the hook collects every sample's ``pred_similarity`` with its
``is_sounding`` label and ``condition`` tag. After the epoch it

* gathers the records from all ranks (``mmengine.dist.all_gather_object``);
* puts the mean probability of positives, of negatives, their gap and the mean of each negative
  condition into the message hub as ``<mode>/sim_pos_mean``, ``<mode>/sim_neg_mean``,
  ``<mode>/sim_gap`` and ``<mode>/sim_<condition>_mean``; its priority (``NORMAL``) runs it before
  ``LoggerHook`` (``BELOW_NORMAL``), which writes them to the log and to every visualiser backend
  (local JSON, TensorBoard) together with the metrics;
* draws a histogram of the probabilities per condition (matplotlib, Agg canvas) and sends it to
  ``runner.visualizer.add_image`` on the main process.

With a distributed sampler that pads the last batch, a few samples are counted twice; the
means are then off by at most ``world_size - 1`` samples out of the whole split.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import all_gather_object, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

Record = Tuple[float, int, str]


def similarity_summary(records: Sequence[Record]) -> Dict[str, float]:
    """Mean similarity of positives, negatives, their gap and each negative condition.

    Args:
        records (Sequence[tuple]): ``(probability, is_sounding, condition)`` per sample.

    Returns:
        dict[str, float]: ``sim_pos_mean``, ``sim_neg_mean``, ``sim_gap`` (positives minus
        negatives) where both exist, and ``sim_<condition>_mean`` per negative condition.
    """
    pos = [p for p, label, _ in records if label == 1]
    neg = [p for p, label, _ in records if label == 0]
    out: Dict[str, float] = {}
    if pos:
        out['sim_pos_mean'] = float(np.mean(pos))
    if neg:
        out['sim_neg_mean'] = float(np.mean(neg))
    if pos and neg:
        out['sim_gap'] = out['sim_pos_mean'] - out['sim_neg_mean']
    for cond in sorted({c for _, label, c in records if label == 0}):
        values = [p for p, label, c in records if label == 0 and c == cond]
        out[f'sim_{cond}_mean'] = float(np.mean(values))
    return out


def similarity_histogram(records: Sequence[Record],
                         bins: int = 20,
                         title: str = 'audio-visual similarity') -> np.ndarray:
    """Histogram of similarity probabilities per condition, as an RGB image.

    Args:
        records (Sequence[tuple]): ``(probability, is_sounding, condition)`` per sample.
        bins (int): Bins over [0, 1]. Defaults to 20.
        title (str): Figure title.

    Returns:
        np.ndarray: ``[H, W, 3]`` uint8 image.
    """
    from mmavs.visualization import figure_to_array, similarity_histogram_figure
    positives: List[float] = []
    negatives: Dict[str, List[float]] = {}
    for prob, label, cond in records:
        if label == 1:
            positives.append(prob)
        else:
            negatives.setdefault(cond, []).append(prob)
    fig = similarity_histogram_figure(
        positives,
        dict(sorted(negatives.items())),
        title,
        bins,
        where=' for the similarity histogram')
    return figure_to_array(fig)


def records_from_samples(samples: Optional[Sequence]) -> List[Record]:
    """``(pred_similarity, is_sounding, condition)`` of each sample that has a similarity.

    ``is_sounding`` falls back to ``condition == 'positive'``; samples with neither are skipped.
    """
    records: List[Record] = []
    for sample in samples or []:
        if 'pred_similarity' not in sample:
            continue
        meta = sample.metainfo
        cond = meta.get('condition')
        label = meta.get('is_sounding')
        if label is None:
            if cond is None:
                continue
            label = int(cond == 'positive')
        label = int(label)
        if cond is None:
            cond = 'positive' if label == 1 else 'negative'
        records.append((float(sample.pred_similarity), label, str(cond)))
    return records


@HOOKS.register_module()
class SimilarityLoggerHook(Hook):
    """Log positive/negative similarity statistics and a histogram after val/test epochs.

    Args:
        bins (int): Histogram bins over [0, 1]. Defaults to 20.
        draw_histogram (bool): Send the histogram image to the visualiser. Defaults to True.
        image_name (str): Image name prefix; the mode is appended. Defaults to
            ``'similarity_hist'``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 bins: int = 20,
                 draw_histogram: bool = True,
                 image_name: str = 'similarity_hist') -> None:
        if bins < 1:
            raise ValueError(f'SimilarityLoggerHook: bins must be >= 1, found {bins}')
        self.bins = bins
        self.draw_histogram = draw_histogram
        self.image_name = image_name
        self._records: List[Record] = []

    # val -----------------------------------------------------------------
    def before_val_epoch(self, runner) -> None:
        """Start a new collection."""
        self._records = []

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Collect the batch's similarities."""
        self._records.extend(records_from_samples(outputs))

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Gather, summarise and log."""
        self._publish(runner, 'val')

    # test ----------------------------------------------------------------
    def before_test_epoch(self, runner) -> None:
        """Start a new collection."""
        self._records = []

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Collect the batch's similarities."""
        self._records.extend(records_from_samples(outputs))

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Gather, summarise and log."""
        self._publish(runner, 'test')

    # ---------------------------------------------------------------------
    @staticmethod
    def _step(runner) -> int:
        loop = getattr(runner, '_train_loop', None)
        if loop is None or isinstance(loop, dict):
            return 0
        by_epoch = getattr(getattr(runner, 'log_processor', None), 'by_epoch', True)
        return runner.epoch if by_epoch else runner.iter

    def _publish(self, runner, mode: str) -> None:
        records = self._records
        if get_world_size() > 1:
            records = [r for part in all_gather_object(records) for r in part]
        self._records = []
        if not records:
            runner.logger.info(f'SimilarityLoggerHook: no pred_similarity in the {mode} '
                               'outputs (the model has no similarity head); nothing logged')
            return
        summary = similarity_summary(records)
        for key, value in summary.items():
            runner.message_hub.update_scalar(f'{mode}/{key}', value)
        text = ', '.join(f'{k}: {v:.4f}' for k, v in summary.items())
        runner.logger.info(f'Similarity ({mode}, {len(records)} samples): {text}')
        if self.draw_histogram and is_main_process():
            image = similarity_histogram(records, self.bins, f'{mode} similarity')
            runner.visualizer.add_image(f'{self.image_name}_{mode}', image, step=self._step(runner))
