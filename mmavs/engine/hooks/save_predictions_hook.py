# Copyright (c) mmavs contributors. All rights reserved.
"""Write every predicted mask of a test run as a PNG, one folder per audio condition."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SavePredictionsHook(Hook):
    """Save ``pred_sem_seg`` of each test sample to ``<out_dir>/<condition>/<frame name>.png``.

    The robust test set holds every frame once per audio condition, so the condition is part of
    the path (a flat folder would overwrite). Masks are written as 0/255 PNGs of the frame's
    original size (gated when the model gates). Used by ``tools/test.py --out DIR``; each rank
    writes its own samples.

    Args:
        out_dir (str): Output folder.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or []:
            meta = sample.metainfo
            condition = str(meta.get('condition', 'positive'))
            name = osp.splitext(
                osp.basename(meta.get('img_path') or f'rank{get_rank()}_batch{batch_idx}'))[0]
            mask = sample.pred_sem_seg.data.squeeze(0).cpu().numpy()
            folder = osp.join(self.out_dir, condition)
            os.makedirs(folder, exist_ok=True)
            cv2.imwrite(osp.join(folder, name + '.png'), (mask > 0).astype(np.uint8) * 255)
