# Copyright (c) mmavs contributors. All rights reserved.
from .bce_loss import SigmoidBCELoss
from .dice_loss import EmptySafeDiceLoss
from .functional import (binary_pixel_accuracy, foreground_fraction_loss, prepare_binary_target,
                         sigmoid_bce_loss, soft_dice_loss, soft_iou_loss)
from .iou_loss import EmptySafeIoULoss

__all__ = [
    'SigmoidBCELoss', 'EmptySafeIoULoss', 'EmptySafeDiceLoss', 'prepare_binary_target',
    'sigmoid_bce_loss', 'soft_iou_loss', 'soft_dice_loss', 'foreground_fraction_loss',
    'binary_pixel_accuracy'
]
