# Copyright (c) mmavs contributors. All rights reserved.
"""Slow, loop-based reference implementations of AVSBench's metrics, for equality tests.

They follow the algorithm of AVSBench's ``mask_iou``, ``_eval_pr`` and ``Eval_Fmeasure``
(``avs_scripts/avs_s4/utils/utility.py``), written independently: one Python loop over frames and,
for the F-score, one over the thresholds, all in float32 as there.
"""
import torch


def reference_mask_iou(logits: torch.Tensor, gt: torch.Tensor, eps: float = 1e-7) -> float:
    """Mean per-frame IoU of one batch, AVSBench style (empty GT: background IoU)."""
    total = 0.0
    for pred_logits, target in zip(logits, gt.float()):
        pred = (torch.sigmoid(pred_logits) > 0.5).float()
        if target.sum() == 0:
            inter = ((1 - pred) * (1 - target)).sum()
            union = torch.tensor(float(target.numel()))
        else:
            inter = (pred * target).sum()
            union = torch.maximum(pred, target).sum()
        total += float(inter / (union + eps))
    return total / logits.shape[0]


def reference_fmeasure(logits: torch.Tensor,
                       gt: torch.Tensor,
                       num: int = 255,
                       beta2: float = 0.3) -> float:
    """AVSBench's F-measure of one batch: loop over frames and over thresholds."""
    prob = torch.sigmoid(logits)
    thresholds = torch.linspace(0, 1 - 1e-10, num)
    curve_sum = torch.zeros(num)
    counted = 0
    for frame_prob, target in zip(prob, gt.float()):
        if torch.mean(target) == 0.0:
            continue
        precision, recall = torch.zeros(num), torch.zeros(num)
        for i in range(num):
            passed = (frame_prob >= thresholds[i]).float()
            tp = (passed * target).sum()
            precision[i] = tp / (passed.sum() + 1e-20)
            recall[i] = tp / (target.sum() + 1e-20)
        f = (1 + beta2) * precision * recall / (beta2 * precision + recall)
        f[torch.isnan(f)] = 0
        curve_sum += f
        counted += 1
    if counted == 0:
        return 0.0
    return float((curve_sum / counted).max())
