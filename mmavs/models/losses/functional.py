# Copyright (c) mmavs contributors. All rights reserved.
"""Pure mask-loss functions for binary (one sigmoid channel) audio-visual segmentation.

All functions take raw mask **logits** ``[B, H, W]`` and a target ``[B, H, W]`` in {0, 1}
(ignored pixels already removed through ``valid``) and return one loss per sample ``[B]``;
the registered wrappers in this package reduce over the batch and apply the loss weight.

Why "empty-safe": a negative pair (frame + silence / noise / off-screen audio) is trained
against an all-empty mask. The soft Dice used by AVSBench/AVSegFormer (and the AVSBench-Robust
release) is ``1 - 2*sum(p*g) / (sum(p^2) + sum(g^2) + 2*eps)``; with ``g == 0`` the numerator is
0 for every prediction, the loss is the constant 1 and its gradient is exactly zero, so the
Dice term teaches nothing on negatives. Here, a sample whose valid target is empty is scored by
its mean predicted foreground probability instead (``empty_mode='fg_fraction'``). That is the
soft counterpart of the AVSBench mIoU convention for empty ground truth
(``1 - predicted foreground fraction``), and its gradient with respect to every logit is
``p * (1 - p) / N > 0``: gradient descent lowers every logit. ``empty_mode='none'`` keeps the
plain formulas (for the authors' Dice this reproduces the zero gradient; it exists so the
difference can be shown in tests and ablations).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

EMPTY_MODES = ('fg_fraction', 'none')


def prepare_binary_target(pred: Tensor,
                          target: Tensor,
                          ignore_index: Optional[int] = 255,
                          weight: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, Tensor]:
    """Bring logits and labels of a binary head to a common ``[B, H, W]`` layout.

    Args:
        pred (Tensor): Mask logits ``[B, 1, H, W]`` or ``[B, H, W]``.
        target (Tensor): Labels ``[B, H, W]`` or ``[B, 1, H, W]`` with values in {0, 1}
            and ``ignore_index`` on ignored (e.g. padded) pixels.
        ignore_index (int, optional): Label value to ignore. Defaults to 255.
        weight (Tensor, optional): Pixel weights broadcastable to ``[B, H, W]``
            (e.g. from an MMSeg pixel sampler). Defaults to None.

    Returns:
        tuple[Tensor, Tensor, Tensor]: logits ``[B, H, W]``, float target ``[B, H, W]`` in
        {0, 1} (0 on ignored pixels) and float pixel weights ``[B, H, W]`` (0 on ignored pixels).
    """
    if pred.dim() == 4:
        if pred.size(1) != 1:
            raise ValueError('binary mask losses expect logits [B, 1, H, W] (one sigmoid '
                             f'channel), found shape {tuple(pred.shape)}')
        pred = pred[:, 0]
    if target.dim() == 4:
        target = target[:, 0]
    if pred.dim() != 3 or target.shape != pred.shape:
        raise ValueError('expected logits [B, H, W] and target [B, H, W] of the same shape, '
                         f'found logits {tuple(pred.shape)} and target {tuple(target.shape)}')
    valid = torch.ones_like(pred)
    if ignore_index is not None:
        valid = valid * (target != ignore_index).to(pred.dtype)
    target = torch.where(valid > 0, target, torch.zeros_like(target)).to(pred.dtype)
    if bool(((target != 0) & (target != 1)).any()):
        found = torch.unique(target).tolist()
        raise ValueError('binary mask target must hold {0, 1} (and the ignore index '
                         f'{ignore_index}), found values {found}')
    if weight is not None:
        valid = valid * weight.to(pred.dtype)
    return pred, target, valid


def sigmoid_bce_loss(logits: Tensor,
                     target: Tensor,
                     valid: Optional[Tensor] = None,
                     pos_weight: Optional[float] = None) -> Tensor:
    """Binary cross-entropy on logits, averaged over the valid pixels of each sample.

    Args:
        logits (Tensor): Mask logits ``[B, H, W]``.
        target (Tensor): Float target ``[B, H, W]`` in {0, 1}.
        valid (Tensor, optional): Pixel weights ``[B, H, W]`` (0 = ignored). Defaults to all 1.
        pos_weight (float, optional): Weight of the positive term (``> 1`` favours recall).

    Returns:
        Tensor: Per-sample loss ``[B]`` (0 for a sample without valid pixels).
    """
    if valid is None:
        valid = torch.ones_like(logits)
    pw = None if pos_weight is None else logits.new_tensor(pos_weight)
    pixel = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pw, reduction='none')
    return (pixel * valid).flatten(1).sum(1) / valid.flatten(1).sum(1).clamp(min=1.0)


def empty_targets(target: Tensor, valid: Tensor) -> Tensor:
    """Boolean ``[B]``: True where a sample has no valid foreground pixel."""
    return (target * valid).flatten(1).sum(1) == 0


def foreground_fraction_loss(probs: Tensor, valid: Tensor) -> Tensor:
    """Mean predicted foreground probability over the valid pixels, per sample ``[B]``.

    The soft version of the AVSBench empty-mask score ``1 - foreground fraction``.
    """
    return (probs * valid).flatten(1).sum(1) / valid.flatten(1).sum(1).clamp(min=1.0)


def soft_iou_loss(logits: Tensor,
                  target: Tensor,
                  valid: Optional[Tensor] = None,
                  smooth: float = 1.0,
                  empty_mode: str = 'fg_fraction') -> Tensor:
    """Soft Jaccard loss ``1 - (I + s) / (U + s)`` per sample, with an empty-target rule.

    ``I = sum(p * g)`` and ``U = sum(p + g - p * g)`` over valid pixels, ``p = sigmoid(logits)``.

    Args:
        logits (Tensor): Mask logits ``[B, H, W]``.
        target (Tensor): Float target ``[B, H, W]`` in {0, 1}.
        valid (Tensor, optional): Pixel weights ``[B, H, W]``. Defaults to all 1.
        smooth (float): Additive smoothing ``s`` (pixels). Defaults to 1.
        empty_mode (str): ``'fg_fraction'`` scores an empty target by the mean foreground
            probability; ``'none'`` keeps the formula (its gradient on an empty target is
            ``s / (sum(p) + s)^2 * p(1-p)``, which vanishes as the prediction grows).

    Returns:
        Tensor: Per-sample loss ``[B]`` in [0, 1].
    """
    _check_empty_mode(empty_mode)
    if valid is None:
        valid = torch.ones_like(logits)
    probs = logits.sigmoid()
    inter = (probs * target * valid).flatten(1).sum(1)
    union = ((probs + target - probs * target) * valid).flatten(1).sum(1)
    loss = 1.0 - (inter + smooth) / (union + smooth)
    if empty_mode == 'fg_fraction':
        loss = torch.where(
            empty_targets(target, valid), foreground_fraction_loss(probs, valid), loss)
    return loss


def soft_dice_loss(logits: Tensor,
                   target: Tensor,
                   valid: Optional[Tensor] = None,
                   eps: float = 1e-3,
                   empty_mode: str = 'fg_fraction') -> Tensor:
    """Squared soft Dice loss per sample, with an empty-target rule.

    ``1 - 2 * sum(p * g) / (sum(p^2) + sum(g^2) + 2 * eps)`` over valid pixels: with
    ``empty_mode='none'`` and ``eps=1e-3`` this is exactly the AVSBench/AVSegFormer
    ``F1_Dice_loss`` (each squared sum there gets ``+0.001``), whose gradient on an empty
    target is exactly zero.

    Args:
        logits (Tensor): Mask logits ``[B, H, W]``.
        target (Tensor): Float target ``[B, H, W]`` in {0, 1}.
        valid (Tensor, optional): Pixel weights ``[B, H, W]``. Defaults to all 1.
        eps (float): Added to each squared sum of the denominator. Defaults to 1e-3.
        empty_mode (str): ``'fg_fraction'`` (empty target scored by the mean foreground
            probability) or ``'none'`` (plain formula).

    Returns:
        Tensor: Per-sample loss ``[B]`` in [0, 1].
    """
    _check_empty_mode(empty_mode)
    if valid is None:
        valid = torch.ones_like(logits)
    probs = logits.sigmoid()
    inter = (probs * target * valid).flatten(1).sum(1)
    denom = ((probs * probs + target * target) * valid).flatten(1).sum(1) + 2 * eps
    loss = 1.0 - 2.0 * inter / denom
    if empty_mode == 'fg_fraction':
        loss = torch.where(
            empty_targets(target, valid), foreground_fraction_loss(probs, valid), loss)
    return loss


def _check_empty_mode(empty_mode: str) -> None:
    if empty_mode not in EMPTY_MODES:
        raise ValueError(f'empty_mode must be one of {EMPTY_MODES}, found {empty_mode!r}')


def binary_pixel_accuracy(pred: Tensor,
                          target: Tensor,
                          ignore_index: Optional[int] = 255,
                          threshold: float = 0.5) -> Tensor:
    """Pixel accuracy (%) of ``sigmoid(pred) > threshold`` against a {0, 1} target.

    MMSeg's ``accuracy`` takes an argmax over channels, which for a single sigmoid channel is
    always class 0 (it then reports the background share); this is the binary counterpart.

    Args:
        pred (Tensor): Mask logits ``[B, 1, H, W]`` or ``[B, H, W]``.
        target (Tensor): Labels ``[B, H, W]`` (``ignore_index`` = ignored).
        ignore_index (int, optional): Ignored label. Defaults to 255.
        threshold (float): Probability threshold. Defaults to 0.5.

    Returns:
        Tensor: Scalar accuracy in percent (0 when every pixel is ignored).
    """
    with torch.no_grad():
        logits, target, valid = prepare_binary_target(pred, target, ignore_index)
        correct = ((logits.sigmoid() > threshold).to(target.dtype) == target).to(valid.dtype)
        return (correct * valid).sum() * 100.0 / valid.sum().clamp(min=1.0)
