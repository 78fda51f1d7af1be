# Copyright (c) mmavs contributors. All rights reserved.
"""A small trainable audio CNN for CPU work (a stand-in for VGGish's 72 M parameters).

Same input as VGGish (one ``[96, 64]`` log-mel example per sample), same kind of output (one
embedding vector), about 0.26 M parameters and 18 M multiply-adds per example at the default
width (VGGish: 72 M parameters, 0.86 G multiply-adds)::

    [N, 1, 96, 64]
    conv3x3(c), stride 2, BN ReLU max2  -> [N, c, 24, 16]
    conv3x3(2c) BN ReLU max2            -> [N, 2c, 12, 8]
    conv3x3(4c) BN ReLU max2            -> [N, 4c, 6, 4]
    conv3x3(4c) BN ReLU                 -> [N, 4c, 6, 4]
    average pool                        -> [N, 4c] ('global') or [N, 4c * 4] ('time')
    Linear(.., out_channels)            -> [N, out_channels]

``pooling='time'`` averages over time only and keeps the four frequency bands apart (VGGish also
keeps the position of every band: its classifier flattens ``[512, 6, 4]``), so the embedding
knows *where* in the spectrum the energy is and not only which patterns occur somewhere: a
low-passed engine and a broadband noise differ mostly in that.

The last layer is linear (no ReLU): the embedding is meant to be projected by the fusion module /
similarity head, which learn together with it.
"""
from typing import Optional, Union

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

from .vggish import as_example_batch


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """3x3 conv (no bias, padding 1) + BatchNorm + ReLU; divides H and W by ``stride``."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


@MODELS.register_module()
class AudioCNN(BaseModule):
    """Small CNN: ``[N, 1, 96, 64]`` (or ``[N, 96, 64]``) log-mel -> ``[N, out_channels]``.

    Args:
        base_channels (int): Width ``c`` of the first stage; stages are ``c, 2c, 4c, 4c``.
            Default 32 (about 0.26 M parameters with ``out_channels=128``).
        out_channels (int): Embedding size. Default 128 (as VGGish).
        pooling (str): ``'global'`` (default): average over time and frequency; ``'time'``:
            average over time, keep the frequency bands (a 4x larger final Linear).
        init_cfg (dict | list[dict] | None): MMEngine init config. Default: Kaiming (fan-out,
            ReLU) for convs, BN weight 1 / bias 0.
    """

    POOLINGS = ('global', 'time')

    def __init__(
        self,
        base_channels: int = 32,
        out_channels: int = 128,
        pooling: str = 'global',
        init_cfg: Optional[Union[dict, list]] = [
            dict(type='Kaiming', layer='Conv2d', mode='fan_out', nonlinearity='relu'),
            dict(type='Constant', layer='BatchNorm2d', val=1, bias=0),
        ]
    ) -> None:
        if base_channels < 1 or out_channels < 1:
            raise ValueError(f'base_channels and out_channels must be >= 1, got '
                             f'{base_channels} and {out_channels}')
        if pooling not in self.POOLINGS:
            raise ValueError(f'AudioCNN: pooling must be one of {self.POOLINGS}, found {pooling!r}')
        super().__init__(init_cfg=init_cfg)  # BaseModule deep-copies it
        c = base_channels
        self.base_channels = base_channels
        self.out_channels = out_channels
        self.pooling = pooling
        self.stages = nn.Sequential(
            conv_bn_relu(1, c, stride=2), nn.MaxPool2d(2), conv_bn_relu(c, 2 * c), nn.MaxPool2d(2),
            conv_bn_relu(2 * c, 4 * c), nn.MaxPool2d(2), conv_bn_relu(4 * c, 4 * c))
        # input [96, 64] -> final map [6, 4] (time, frequency); 'time' keeps the 4 bands
        bands = 1 if pooling == 'global' else 4
        self.pool = nn.AdaptiveAvgPool2d((1, bands))
        self.fc = nn.Linear(4 * c * bands, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed log-mel examples.

        Args:
            x (torch.Tensor): ``[N, 96, 64]`` or ``[N, 1, 96, 64]`` log-mel examples.

        Returns:
            torch.Tensor: ``[N, out_channels]`` embeddings.
        """
        x = as_example_batch(x, 'AudioCNN')
        feats = self.stages(x)  # [N, 4c, 6, 4]
        return self.fc(self.pool(feats).flatten(1))
