# Copyright (c) mmavs contributors. All rights reserved.
"""Mask losses: negatives (empty masks) must be trained; the authors' Dice cannot train them."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmavs.models.losses import binary_pixel_accuracy, soft_dice_loss, soft_iou_loss


def authors_dice(logits, target):
    """AVSBench/AVSegFormer ``F1_Dice_loss`` written from its formula (per sample)."""
    p = logits.sigmoid().flatten(1)
    g = target.flatten(1).float()
    a = (p * g).sum(-1)
    b = (p * p).sum(-1) + 0.001
    c = (g * g).sum(-1) + 0.001
    return 1 - 2 * a / (b + c)


@pytest.mark.parametrize('loss_cfgs', [
    [dict(type='SigmoidBCELoss')],
    [dict(type='EmptySafeIoULoss')],
    [dict(type='EmptySafeDiceLoss')],
    [dict(type='SigmoidBCELoss'), dict(type='EmptySafeIoULoss')],
])
def test_empty_target_gradient_pushes_every_logit_down(loss_cfgs):
    losses = [MODELS.build(cfg) for cfg in loss_cfgs]
    logits = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    logits.requires_grad_(True)
    target = torch.zeros(2, 16, 16, dtype=torch.long)
    total = sum(loss(logits, target) for loss in losses)
    total.backward()
    # d loss / d logit > 0 everywhere: a descent step lowers every logit (towards "empty").
    assert torch.all(logits.grad > 0)


def test_authors_dice_has_zero_gradient_on_empty_target():
    logits = torch.randn(2, 1, 16, 16, requires_grad=True)
    target = torch.zeros(2, 16, 16, dtype=torch.long)
    loss = MODELS.build(dict(type='EmptySafeDiceLoss', empty_mode='none'))
    value = loss(logits, target)
    value.backward()
    assert value.item() == pytest.approx(1.0)
    assert logits.grad.abs().max().item() == 0.0
    # ... and it is the authors' formula
    assert torch.allclose(
        soft_dice_loss(logits[:, 0], target.float(), empty_mode='none'),
        authors_dice(logits[:, 0], target))


def test_gradient_descent_empties_a_negative_only_with_empty_safe_terms():
    target = torch.zeros(1, 8, 8)
    start = torch.full((1, 8, 8), 2.0)

    def descend(loss_fn, steps=50):
        logits = start.clone().requires_grad_(True)
        # the loss is a mean over 64 pixels: lr 64 * 5 moves each logit like a per-pixel loss
        opt = torch.optim.SGD([logits], lr=64 * 5.0)
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(logits).sum().backward()
            opt.step()
        return logits.detach().sigmoid().mean().item()

    assert descend(lambda x: soft_dice_loss(x, target, empty_mode='none')) == pytest.approx(
        torch.sigmoid(torch.tensor(2.0)).item())
    assert descend(lambda x: soft_dice_loss(x, target)) < 0.5
    assert descend(lambda x: soft_iou_loss(x, target)) < 0.5


def test_dice_and_iou_on_non_empty_targets():
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(3, 12, 12, generator=gen)
    target = (torch.rand(3, 12, 12, generator=gen) > 0.5).float()
    assert torch.allclose(soft_dice_loss(logits, target), authors_dice(logits, target), atol=1e-6)
    probs = logits.sigmoid()
    inter = (probs * target).flatten(1).sum(1)
    union = (probs + target - probs * target).flatten(1).sum(1)
    assert torch.allclose(soft_iou_loss(logits, target, smooth=0.0), 1 - inter / union)
    perfect = torch.where(target > 0, 20.0, -20.0)
    assert soft_iou_loss(perfect, target).max().item() < 1e-3


def test_empty_target_is_scored_by_mean_foreground_probability():
    logits = torch.randn(2, 10, 10)
    target = torch.zeros(2, 10, 10)
    expected = logits.sigmoid().flatten(1).mean(1)
    assert torch.allclose(soft_iou_loss(logits, target), expected)
    assert torch.allclose(soft_dice_loss(logits, target), expected)


@pytest.mark.parametrize(
    'cfg',
    [dict(type='SigmoidBCELoss'),
     dict(type='EmptySafeIoULoss'),
     dict(type='EmptySafeDiceLoss')])
def test_ignored_pixels_do_not_contribute(cfg):
    loss = MODELS.build(cfg)
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[:, 2:5, 2:5] = 1
    target[:, :, 6:] = 255
    logits = torch.randn(1, 1, 8, 8, requires_grad=True)
    value = loss(logits, target)
    value.backward()
    assert logits.grad[..., 6:].abs().max().item() == 0.0
    changed = logits.detach().clone()
    changed[..., 6:] += 10.0
    assert loss(changed, target).item() == pytest.approx(value.item())


def test_bce_averages_over_valid_pixels():
    logits = torch.randn(2, 1, 6, 6)
    target = (torch.rand(2, 6, 6) > 0.5).long()
    loss = MODELS.build(dict(type='SigmoidBCELoss', loss_weight=2.0))
    expected = 2.0 * F.binary_cross_entropy_with_logits(logits[:, 0], target.float())
    assert loss(logits, target).item() == pytest.approx(expected.item(), rel=1e-5)


def test_invalid_inputs_are_reported():
    loss = MODELS.build(dict(type='EmptySafeIoULoss'))
    with pytest.raises(ValueError, match='found values'):
        loss(torch.randn(1, 1, 4, 4), torch.full((1, 4, 4), 2, dtype=torch.long))
    with pytest.raises(ValueError, match='one sigmoid'):
        loss(torch.randn(1, 2, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='loss_'):
        MODELS.build(dict(type='SigmoidBCELoss', loss_name='bce'))
    with pytest.raises(ValueError, match='empty_mode'):
        soft_iou_loss(torch.randn(1, 4, 4), torch.zeros(1, 4, 4), empty_mode='skip')


def test_binary_pixel_accuracy():
    logits = torch.tensor([[[[5.0, -5.0], [5.0, -5.0]]]])
    target = torch.tensor([[[1, 1], [255, 0]]])
    # valid pixels: (0,0) right, (0,1) wrong, (1,1) right -> 2/3
    assert binary_pixel_accuracy(logits, target).item() == pytest.approx(200.0 / 3)


@pytest.mark.parametrize('loss_type', ['SigmoidBCELoss', 'EmptySafeIoULoss', 'EmptySafeDiceLoss'])
def test_empty_weight_scales_only_the_negatives(loss_type):
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(4, 1, 8, 8, generator=gen)
    target = torch.zeros(4, 8, 8, dtype=torch.long)
    target[:2, 2:6, 2:6] = 1  # two positives, two negatives (empty masks)
    loss = MODELS.build(dict(type=loss_type, reduction='none'))
    full = loss(logits, target)
    loss.empty_weight = 0.25
    weighted = loss(logits, target)
    assert torch.allclose(weighted[:2], full[:2])
    assert torch.allclose(weighted[2:], 0.25 * full[2:])
    loss.reduction = 'mean'
    assert loss(logits, target) == pytest.approx(float(weighted.mean()))
    built = MODELS.build(dict(type=loss_type, empty_weight=0.0))
    assert built(logits, target) == pytest.approx(float(full[:2].sum() / 4))
