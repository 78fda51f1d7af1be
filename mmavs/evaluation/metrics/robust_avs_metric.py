# Copyright (c) mmavs contributors. All rights reserved.
"""``RobustAVSMetric``: one test run, every audio condition, one table.

The metric keeps, per frame, only the sufficient statistics of
:func:`mmavs.evaluation.functional.frame_statistics` (a few pixel counts and two ``[T]`` int32
count curves, ~2 KB), tagged with the frame's audio condition and similarity score. Every
dataset-level number is reduced from these in :meth:`RobustAVSMetric.compute_metrics`, so the
result does not depend on the batch size, and MMEngine's result collection across DDP ranks
(which gathers ``self.results``) gives the same numbers as one process.

Gating: when the model gives a similarity probability ``s`` per frame and ``gate_thr`` is set,
the metric also reports every number with the binary prediction of the frames with
``s < gate_thr`` emptied (:func:`mmavs.evaluation.functional.gate_statistics`). Since gating only
needs the stored statistics and scores, both tables come from one run. Formulas:
``docs/metrics.md``.
"""
import json
import math
import os
import os.path as osp
from collections import Counter, defaultdict
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmseg.registry import METRICS

from ...utils.formatting import json_safe
from ...utils.gate import check_gate_thr
from ..functional import STAT_KEYS, frame_statistics, gate_statistics
from ..report import build_report, flatten_report, format_markdown, format_table

CURVE_KEYS = ('tp_curve', 'pp_curve')


def _sample_dict(sample: Any) -> dict:
    if isinstance(sample, BaseDataElement):
        return sample.to_dict()
    return sample


def _pixel_data(sample: dict, key: str) -> Optional[torch.Tensor]:
    """``sample[key]['data']`` as ``[H, W]`` (``PixelData`` dict or element), or None."""
    value = sample.get(key)
    if value is None:
        return None
    if isinstance(value, BaseDataElement):
        value = value.to_dict()
    data = value['data'] if isinstance(value, dict) else value
    data = torch.as_tensor(data)
    if data.dim() == 3 and data.shape[0] == 1:
        data = data[0]
    if data.dim() != 2:
        raise ValueError(f'expected {key} data of shape [1, H, W] or [H, W], found '
                         f'{tuple(data.shape)} for {sample.get("img_path", "a sample")}')
    return data


def _scalar(value) -> Optional[float]:
    if value is None:
        return None
    return float(torch.as_tensor(value).float().reshape(-1)[0])


@METRICS.register_module()
class RobustAVSMetric(BaseMetric):
    """Dataset-level AVS metrics per audio condition, with and without similarity gating.

    Reads from each data sample (a dict, as MMEngine's evaluator passes them, or a
    ``SegDataSample``):

    * ``seg_logits.data`` ``[1, H, W]``: the sigmoid probability map (MMSeg's
      ``postprocess_result`` for a single-channel head; never gated);
    * ``gt_sem_seg.data`` ``[1, H, W]``: 0/1 mask (all zero for a negative; may be absent for a
      negative condition);
    * ``condition`` (str, default ``'positive'``): the audio condition tag;
    * ``pred_similarity`` (scalar tensor, optional): audio-visual similarity probability;
    * ``gate_thr`` (float, optional): the model's own gating threshold (see ``gate_thr`` below).

    ``compute_metrics`` returns a flat dict, fractions in [0, 1]:
    ``positive/mIoU``, ``positive/F``, ``<condition>/FPR``, ``<condition>/false_alarm`` for every
    condition (``<condition>/similarity``, the mean score, when scores are present), the global
    ``G-FPR`` (mean FPR over the negative conditions), ``G-false_alarm``,
    ``G-mIoU = H(positive mIoU, 1 - G-FPR)`` and ``G-F = H(positive F, 1 - G-FPR)`` (``H``: harmonic
    mean; the global keys need a negative condition, G-mIoU/G-F also the positive one), and the
    same keys prefixed ``gated/`` when gating applies. It prints both tables and, with
    ``output_dir``, writes them to ``robust_metrics.json`` and ``robust_metrics.md``.

    Args:
        gate_thr (float, optional): Similarity threshold of the gated table (a frame whose score is
            below it predicts nothing). None disables the gated table. When the samples carry the
            model's own ``gate_thr`` (one value), that value is used instead. Defaults to 0.5.
        beta2 (float): F-score beta squared. Defaults to 0.3.
        num_thresholds (int): F-score thresholds. Defaults to 255.
        positive_condition (str): Condition name of the true-audio pairs. Defaults to
            ``'positive'``; every other name is a negative condition.
        output_dir (str, optional): Directory for the JSON and Markdown tables (the test tool sets
            the work dir). None writes nothing. Defaults to None.
        collect_device (str): ``'cpu'`` or ``'gpu'``, for DDP collection. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to none.
        collect_dir (str, optional): Shared directory for ``collect_device='cpu'``.
    """

    default_prefix = ''
    JSON_NAME = 'robust_metrics.json'
    MARKDOWN_NAME = 'robust_metrics.md'
    #: Tables of the conditions a failed run finished (:meth:`evaluate_finished`).
    PARTIAL_JSON_NAME = 'robust_metrics_partial.json'
    PARTIAL_MARKDOWN_NAME = 'robust_metrics_partial.md'
    _partial: Optional[dict] = None

    def __init__(self,
                 gate_thr: Optional[float] = 0.5,
                 beta2: float = 0.3,
                 num_thresholds: int = 255,
                 positive_condition: str = 'positive',
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.gate_thr = check_gate_thr(gate_thr, 'RobustAVSMetric.gate_thr')
        self.beta2 = beta2
        self.num_thresholds = num_thresholds
        self.positive_condition = positive_condition
        self.output_dir = output_dir

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store the per-frame statistics of a batch (one entry of ``self.results`` per frame)."""
        frames = [self._read_sample(_sample_dict(s)) for s in data_samples]
        # Frames of one size are counted together (one vectorised call); sizes may differ.
        by_shape = defaultdict(list)
        for i, (probs, _, _) in enumerate(frames):
            by_shape[tuple(probs.shape)].append(i)
        stats: List[Optional[dict]] = [None] * len(frames)
        for indices in by_shape.values():
            probs = torch.stack([frames[i][0] for i in indices])
            gt = torch.stack([frames[i][1].to(probs.device) for i in indices])
            group = frame_statistics(probs, gt, self.num_thresholds, probabilities=True)
            group = {k: v.cpu().numpy() for k, v in group.items()}
            for j, i in enumerate(indices):
                stats[i] = {k: group[k][j] for k in STAT_KEYS}
        for (_, _, extra), frame_stats in zip(frames, stats):
            self._append(frame_stats, extra)

    def add_statistics(self,
                       stats: Dict[str, torch.Tensor],
                       conditions: Sequence[str],
                       similarities: Optional[Sequence[float]] = None) -> None:
        """Store frames whose statistics were computed elsewhere (one ``self.results`` entry
        each, exactly what :meth:`process` stores for the same maps).

        Used by the prediction-folder evaluator, which counts PNG codes with
        :func:`mmavs.evaluation.functional.quantized_statistics`.

        Args:
            stats (dict[str, Tensor]): :func:`~mmavs.evaluation.functional.frame_statistics`
                output of ``N`` frames (``[N]`` and ``[N, T]``; ``T`` must be
                ``num_thresholds``).
            conditions (Sequence[str]): The condition of each frame, ``N`` names.
            similarities (Sequence[float], optional): Similarity score of each frame.
        """
        num = int(stats['pred_pos'].shape[0])
        if len(conditions) != num or (similarities is not None and len(similarities) != num):
            raise ValueError(f'expected a condition (and similarity) for each of the {num} '
                             f'frames, found {len(conditions)} conditions')
        if tuple(stats['tp_curve'].shape[1:]) != (self.num_thresholds, ):
            raise ValueError(f'expected F-score curves of {self.num_thresholds} thresholds, '
                             f'found {tuple(stats["tp_curve"].shape[1:])}')
        arrays = {k: stats[k].cpu().numpy() for k in STAT_KEYS}
        for j in range(num):
            similarity = math.nan if similarities is None else float(similarities[j])
            self._append({k: arrays[k][j]
                          for k in STAT_KEYS},
                         dict(condition=str(conditions[j]), similarity=similarity, gate_thr=None))

    def _append(self, frame_stats: Dict[str, np.ndarray], extra: dict) -> None:
        result = {k: int(frame_stats[k]) for k in STAT_KEYS if k not in CURVE_KEYS}
        result.update({k: frame_stats[k].astype(np.int32) for k in CURVE_KEYS})
        result.update(extra)
        self.results.append(result)

    def _read_sample(self, sample: dict):
        """``(probabilities [H, W], gt [H, W], extra dict)`` of one sample dict."""
        probs = _pixel_data(sample, 'seg_logits')
        where = sample.get('img_path', 'a sample')
        if probs is None:
            raise KeyError(f'expected seg_logits (the mask probabilities) in the prediction of '
                           f'{where}')
        condition = str(sample.get('condition', self.positive_condition))
        gt = _pixel_data(sample, 'gt_sem_seg')
        if gt is None:
            if condition == self.positive_condition:
                raise KeyError(f'expected gt_sem_seg for the {condition!r} frame {where}')
            gt = torch.zeros(probs.shape, dtype=torch.bool)
        if tuple(gt.shape) != tuple(probs.shape):
            raise ValueError(f'expected gt_sem_seg of the prediction size {tuple(probs.shape)}, '
                             f'found {tuple(gt.shape)} for {where}')
        similarity = _scalar(sample.get('pred_similarity'))
        extra = dict(
            condition=condition,
            similarity=math.nan if similarity is None else similarity,
            gate_thr=_scalar(sample.get('gate_thr')))
        return probs, gt, extra

    def _effective_gate_thr(self, results: List[dict]) -> Optional[float]:
        if self.gate_thr is None:
            return None
        model_thrs = {r['gate_thr'] for r in results if r.get('gate_thr') is not None}
        if len(model_thrs) == 1:
            return model_thrs.pop()
        if len(model_thrs) > 1:
            print_log(
                f'RobustAVSMetric: samples carry several gate thresholds '
                f'{sorted(model_thrs)}; using gate_thr={self.gate_thr}',
                logger='current')
        return self.gate_thr

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Reduce the collected per-frame statistics to the flat metric dict (see class doc)."""
        report = self.compute_report(results)
        self._publish(report)
        return report['metrics']

    def compute_report(self, results: list) -> dict:
        """The tables of the collected per-frame statistics, without printing or writing.

        Returns:
            dict: ``no_gate`` (a report of :func:`mmavs.evaluation.report.build_report`),
            ``gated`` (when gating applies), ``gate_thr`` and ``metrics`` (the flat dict of
            :meth:`compute_metrics`): what ``robust_metrics.json`` holds.
        """
        by_condition = defaultdict(list)
        for r in results:
            by_condition[r['condition']].append(r)
        stats, scores = {}, {}
        for name, rows in by_condition.items():
            stats[name] = {
                k: torch.from_numpy(np.asarray([r[k] for r in rows])).long()
                for k in STAT_KEYS
            }
            scores[name] = torch.tensor([r['similarity'] for r in rows], dtype=torch.float64)
        mean_scores = {
            name: float(s[~torch.isnan(s)].mean())
            for name, s in scores.items() if bool((~torch.isnan(s)).any())
        }
        report = {'gate_thr': None}
        report['no_gate'] = build_report(stats, self.positive_condition, self.beta2, mean_scores)
        metrics = flatten_report(report['no_gate'])
        gate_thr = self._effective_gate_thr(results)
        if gate_thr is not None and mean_scores:
            gated = {
                name: gate_statistics(s, ~(scores[name] < gate_thr))
                for name, s in stats.items()
            }
            report['gate_thr'] = gate_thr
            report['gated'] = build_report(gated, self.positive_condition, self.beta2)
            metrics.update(flatten_report(report['gated'], prefix='gated/'))
        report['metrics'] = metrics
        return report

    def evaluate_finished(self, expected: Mapping[str, int], error: str) -> Dict[str, float]:
        """After a run failed: the tables of every condition whose frames were all processed.

        Written to ``output_dir`` as :attr:`PARTIAL_JSON_NAME` / :attr:`PARTIAL_MARKDOWN_NAME`
        with ``incomplete = {finished, unfinished, error}``; the results of this process only
        (no collection over ranks).

        Args:
            expected (Mapping[str, int]): Condition -> frames it has (the test set's).
            error (str): What stopped the run (recorded in the file).

        Returns:
            dict[str, float]: The metrics of the finished conditions (empty if none).
        """
        counts = Counter(r['condition'] for r in self.results)
        finished = [c for c, n in expected.items() if n > 0 and counts.get(c, 0) == n]
        self._partial = dict(
            finished=finished, unfinished=[c for c in expected if c not in finished], error=error)
        try:
            rows = [r for r in self.results if r['condition'] in finished]
            if rows:
                return self.compute_metrics(rows)
            self._publish(dict(gate_thr=None, metrics={}))
            return {}
        finally:
            self._partial = None

    def _publish(self, report: dict) -> None:
        """Print the tables with MMEngine's logger and write them to ``output_dir``."""
        json_name, md_name = self.JSON_NAME, self.MARKDOWN_NAME
        if self._partial is not None:
            report = dict(report, incomplete=self._partial)
            json_name, md_name = self.PARTIAL_JSON_NAME, self.PARTIAL_MARKDOWN_NAME
            print_log(
                f"RobustAVSMetric: the run failed ({self._partial['error']}); tables of the "
                f"finished conditions {self._partial['finished']} follow, not of "
                f"{self._partial['unfinished']}",
                logger='current',
                level=30)
            if 'no_gate' not in report:
                return self._write(
                    report, ['# Robust AVS evaluation (incomplete)', '', 'No condition finished.'],
                    json_name, md_name)
        texts, markdown = [], ['# Robust AVS evaluation', '']
        if self._partial is not None:
            markdown = [
                '# Robust AVS evaluation (incomplete)', '',
                f"Finished: {', '.join(self._partial['finished'])}. Not finished: "
                f"{', '.join(self._partial['unfinished'])} ({self._partial['error']}).", ''
            ]
        blocks = [('no gate', report['no_gate'])]
        if 'gated' in report:
            blocks.append((f'gated (similarity >= {report["gate_thr"]:g})', report['gated']))
        for title, block in blocks:
            texts.append(format_table(block, title=f'Robust AVS metrics, {title}'))
            markdown.append(format_markdown(block, title=title.capitalize()))
        print_log('\n' + '\n'.join(texts), logger='current')
        self._write(report, markdown, json_name, md_name)

    def _write(self, report: dict, markdown: List[str], json_name: str, md_name: str) -> None:
        if self.output_dir is None:
            return
        os.makedirs(self.output_dir, exist_ok=True)
        with open(osp.join(self.output_dir, json_name), 'w') as f:
            json.dump(json_safe(report), f, indent=2)
        with open(osp.join(self.output_dir, md_name), 'w') as f:
            f.write('\n'.join(markdown))
        print_log(
            f'RobustAVSMetric: tables written to {self.output_dir}/{{{json_name},{md_name}}}',
            logger='current')
