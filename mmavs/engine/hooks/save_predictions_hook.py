# Copyright (c) mmavs contributors. All rights reserved.
"""Write every prediction of a test run as a PNG, in the AVSBench-Robust prediction layout."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ...evaluation.prediction_io import (SUBSETS, PredictionLayout, write_mask_png,
                                         write_probability_png)
from ...utils.constants import MULTI_SOURCE_CATEGORY, POSITIVE_CONDITION

#: What a PNG holds: the (gated) binary mask, or the (never gated) probability map.
OUT_FORMATS = ('mask', 'prob')


@HOOKS.register_module()
class SavePredictionsHook(Hook):
    """Save each test prediction as a PNG, one folder per audio condition.

    Path: ``<out_dir>/<condition>/<split>/<category>/<name>/<name>_<i>.png``. The layout (MS3:
    no ``<category>`` level; ``i`` = 1..5) is
    :class:`mmavs.evaluation.prediction_io.PredictionLayout`, the one
    ``tools/analysis_tools/eval_predictions.py`` reads, so a run's PNGs score to the run's own
    table. The robust test set holds every frame once per audio condition, hence one folder per
    condition. PNGs have the frame's original size. Used by ``tools/test.py --out DIR``; each
    rank writes its own samples.

    Args:
        out_dir (str): Output folder.
        out_format (str): ``'mask'``: ``pred_sem_seg`` as an 8-bit 0/255 PNG (gated when the
            model gates); ``'prob'``: ``seg_logits`` (the sigmoid map, never gated) as a 16-bit
            PNG that keeps every statistic of the metric
            (:func:`mmavs.evaluation.prediction_io.write_probability_png`). Default ``'mask'``.
        subset (str, optional): ``'s4'`` or ``'ms3'``. None: the test dataset's ``subset``
            (the robust test sets and AVSBench datasets have one), else ``'ms3'`` for samples
            of category ``'multi'`` and ``'s4'`` otherwise.

    Each sample's metainfo needs ``video_id``, ``frame_idx``, ``split`` and, for S4,
    ``category`` (``PackAVSegInputs`` packs them).
    """

    priority = 'LOW'

    def __init__(self,
                 out_dir: str,
                 out_format: str = 'mask',
                 subset: Optional[str] = None) -> None:
        if out_format not in OUT_FORMATS:
            raise ValueError(f'expected out_format in {OUT_FORMATS}, found {out_format!r}')
        if subset is not None and subset not in SUBSETS:
            raise ValueError(f'expected subset in {SUBSETS} or None, found {subset!r}')
        self.out_dir = out_dir
        self.out_format = out_format
        self.subset = subset
        self._layouts = {s: PredictionLayout(s) for s in SUBSETS}

    def before_test(self, runner) -> None:
        if self.subset is None:
            dataset = getattr(runner.test_dataloader, 'dataset', None)
            subset = getattr(dataset, 'subset', None)
            self.subset = subset if subset in SUBSETS else None

    def _relpath(self, meta: dict) -> str:
        needed = ('video_id', 'frame_idx', 'split')
        absent = [key for key in needed if meta.get(key) is None]
        if absent:
            raise KeyError(f'SavePredictionsHook writes the AVSBench layout and needs '
                           f'{list(needed)} (and category) in the metainfo of each sample, '
                           f'found {absent} missing for {meta.get("img_path", "a sample")}')
        category = meta.get('category')
        subset = self.subset or ('ms3' if category == MULTI_SOURCE_CATEGORY else 's4')
        return self._layouts[subset].relpath(meta['split'], category, str(meta['video_id']),
                                             int(meta['frame_idx']))

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or []:
            meta = sample.metainfo
            condition = str(meta.get('condition', POSITIVE_CONDITION))
            path = osp.join(self.out_dir, condition, self._relpath(meta))
            if self.out_format == 'prob':
                write_probability_png(path, sample.seg_logits.data.squeeze(0))
            else:
                write_mask_png(path, sample.pred_sem_seg.data.squeeze(0))
