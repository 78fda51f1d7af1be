# Copyright (c) mmavs contributors. All rights reserved.
"""Common wrapper that applies one audio-visual fusion block per selected visual scale."""
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor


class BaseAVFusion(BaseModule, metaclass=ABCMeta):
    """Fuse a clip/frame audio embedding into multi-scale visual features.

    Subclasses set their hyper-parameters, then call :meth:`init_blocks`.
    Scale ``in_index[k]`` (``in_channels[k]`` channels) is replaced by
    ``block_k(feats[in_index[k]], audio)``; other scales pass through unchanged, so the decode
    head sees the same tuple layout as without fusion.

    Args:
        in_channels (Sequence[int]): Channels of each fused scale.
        audio_channels (int): Channels ``C_a`` of the audio embedding ``[B, C_a]``.
            Defaults to 128 (VGGish).
        in_index (Sequence[int], optional): Indices of the fused scales in the feature tuple.
            Defaults to ``range(len(in_channels))``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 audio_channels: int = 128,
                 in_index: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = [int(c) for c in in_channels]
        if in_index is None:
            in_index = list(range(len(in_channels)))
        in_index = [int(i) for i in in_index]
        if len(in_index) != len(in_channels):
            raise ValueError(f'{type(self).__name__}: in_index {in_index} and in_channels '
                             f'{in_channels} must have the same length')
        self.in_channels = in_channels
        self.in_index = in_index
        self.audio_channels = int(audio_channels)
        self.blocks = nn.ModuleList()

    def init_blocks(self) -> None:
        """Build one block per fused scale; subclasses call it at the end of ``__init__``."""
        self.blocks = nn.ModuleList(self.build_block(c) for c in self.in_channels)

    @abstractmethod
    def build_block(self, channels: int) -> nn.Module:
        """Return a module ``block(x [B, C, H, W], audio [B, C_a]) -> [B, C, H, W]``."""

    def forward(self, feats: Sequence[Tensor], audio: Tensor) -> Tuple[Tensor, ...]:
        """Fuse the audio embedding into the selected scales.

        Args:
            feats (Sequence[Tensor]): Visual features, each ``[B, C_i, H_i, W_i]``.
            audio (Tensor): Audio embedding ``[B, C_a]``.

        Returns:
            tuple[Tensor]: Features with the same shapes as ``feats``.
        """
        if audio.dim() != 2 or audio.size(1) != self.audio_channels:
            raise ValueError(f'{type(self).__name__}: expected an audio embedding '
                             f'[B, {self.audio_channels}], found {tuple(audio.shape)}')
        out: List[Tensor] = list(feats)
        for block, idx, channels in zip(self.blocks, self.in_index, self.in_channels):
            if not -len(out) <= idx < len(out):
                raise IndexError(f'{type(self).__name__}: in_index {idx} is out of range for '
                                 f'{len(out)} visual scales')
            x = out[idx]
            if x.size(1) != channels or x.size(0) != audio.size(0):
                raise ValueError(
                    f'{type(self).__name__}: scale {idx} expected [B={audio.size(0)}, '
                    f'C={channels}, H, W], found {tuple(x.shape)}; check in_channels/in_index')
            out[idx] = block(x, audio)
        return tuple(out)
