# Copyright (c) mmavs contributors. All rights reserved.
"""A Runner-free evaluation loop: per-frame statistics and similarity scores per audio condition.

The analysis tools (gate calibration, similarity distributions) need more than the metric's final
numbers: the score and the sufficient statistics of every frame, grouped by audio condition, so
that any gating threshold can be evaluated afterwards without running the model again. The
statistics are those of :func:`mmavs.evaluation.functional.frame_statistics` on the never gated
probability maps (``seg_logits``), exactly what ``RobustAVSMetric`` stores.
"""
import os.path as osp
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import Tensor

from .functional import STAT_KEYS, empty_statistics, frame_statistics


@dataclass
class ConditionResults:
    """Per-condition frame data of one evaluation run.

    Attributes:
        stats (dict[str, dict[str, Tensor]]): Condition -> concatenated frame statistics
            (``[N]`` / ``[N, T]`` int64, :func:`frame_statistics` keys); empty without
            ``with_stats``.
        scores (dict[str, Tensor]): Condition -> similarity probabilities ``[N]`` (float64; NaN
            for frames without a score).
        videos (dict[str, list[str]]): Condition -> the video of each frame (metainfo
            ``video_id``, else the folder of ``img_path``), aligned with ``scores``.
    """
    stats: Dict[str, Dict[str, Tensor]] = field(default_factory=dict)
    scores: Dict[str, Tensor] = field(default_factory=dict)
    videos: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def conditions(self) -> List[str]:
        """Condition names in the order they were first seen."""
        return list(self.scores)

    def num_frames(self, condition: str) -> int:
        """Frames of a condition."""
        return int(self.scores[condition].numel())


def build_dataloader(cfg: Config, split: str = 'val', batch_size: Optional[int] = None):
    """Build ``cfg.<split>_dataloader`` with MMEngine (no Runner), optionally re-batched."""
    key = f'{split}_dataloader'
    loader_cfg = cfg.get(key)
    if loader_cfg is None:
        raise ValueError(f'expected {key} in the config, found none')
    loader_cfg = Config(dict(dataloader=loader_cfg)).dataloader  # a private copy
    if batch_size is not None:
        loader_cfg.batch_size = batch_size
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return Runner.build_dataloader(loader_cfg)


def _pixel(sample, key: str) -> Optional[Tensor]:
    if key not in sample:
        return None
    data = sample.get(key).data
    return data[0] if data.dim() == 3 else data


def _video(sample) -> str:
    """The sample's video id (the folder of its frame when the metainfo has none)."""
    video = sample.metainfo.get('video_id')
    if video is None:
        video = osp.basename(osp.dirname(str(sample.metainfo.get('img_path', ''))))
    return str(video)


def _score(sample) -> float:
    """The sample's similarity probability, NaN without one."""
    sim = sample.get('pred_similarity')
    return float('nan') if sim is None else float(torch.as_tensor(sim).float().reshape(-1)[0])


def collect_condition_results(model: torch.nn.Module,
                              dataloader: Iterable,
                              with_stats: bool = True,
                              num_thresholds: int = 255,
                              progress: bool = True) -> ConditionResults:
    """Run a model over a dataloader and keep, per frame, its statistics and similarity.

    Args:
        model (nn.Module): An AV segmentor (eval mode is set); its ``gate_thr`` does not matter
            (statistics use the never gated ``seg_logits``).
        dataloader (Iterable): Yields collated batches (a robust val/test loader).
        with_stats (bool): Compute frame statistics (positive frames need ``gt_sem_seg``).
            Defaults to True.
        num_thresholds (int): F-score thresholds of the statistics (0: no F curves).
        progress (bool): Show a tqdm progress bar on stderr. Defaults to True.

    Returns:
        ConditionResults: Statistics and scores grouped by the samples' ``condition`` tag.
    """
    model.eval()
    stats_parts: Dict[str, List[dict]] = defaultdict(list)
    score_parts: Dict[str, List[float]] = defaultdict(list)
    video_parts: Dict[str, List[str]] = defaultdict(list)
    iterator = dataloader
    if progress:
        from tqdm import tqdm
        total = len(dataloader) if hasattr(dataloader, '__len__') else None
        iterator = tqdm(dataloader, total=total, desc='inference', unit='batch')
    for data in iterator:
        with torch.no_grad():
            outputs = model.test_step(data)
        by_group = defaultdict(list)  # (condition, frame size) -> sample indices
        for i, sample in enumerate(outputs):
            condition = str(sample.metainfo.get('condition', 'positive'))
            by_group[(condition, tuple(sample.seg_logits.data.shape[-2:]))].append(i)
        # Scores and statistics of a condition are appended in the same (group) order, so
        # row k of the statistics and score k belong to the same frame.
        for (condition, _), indices in by_group.items():
            score_parts[condition].extend(_score(outputs[i]) for i in indices)
            video_parts[condition].extend(_video(outputs[i]) for i in indices)
            if not with_stats:
                continue
            probs = torch.stack([_pixel(outputs[i], 'seg_logits') for i in indices])
            gts = []
            for i in indices:
                gt = _pixel(outputs[i], 'gt_sem_seg')
                if gt is None:
                    if condition == 'positive':
                        where = outputs[i].metainfo.get('img_path', 'a positive frame')
                        raise KeyError(f'expected gt_sem_seg for the positive frame {where}')
                    gt = torch.zeros(probs.shape[1:], dtype=torch.long)
                gts.append(gt.to(probs.device))
            part = frame_statistics(probs, torch.stack(gts), num_thresholds, probabilities=True)
            stats_parts[condition].append({k: v.cpu() for k, v in part.items()})
    results = ConditionResults()
    for condition, scores in score_parts.items():
        results.scores[condition] = torch.tensor(scores, dtype=torch.float64)
        results.videos[condition] = video_parts[condition]
        if with_stats:
            parts = stats_parts.get(condition) or [empty_statistics(num_thresholds)]
            results.stats[condition] = {k: torch.cat([p[k] for p in parts]) for k in STAT_KEYS}
    return results
