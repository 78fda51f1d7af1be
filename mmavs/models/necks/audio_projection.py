# Copyright (c) mmavs contributors. All rights reserved.
"""A linear projection of the audio embedding, shared by every head of the segmentor."""
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class AudioProjection(BaseModule):
    """``Linear(in_channels, out_channels)`` on the audio embedding (AVSegFormer's ``audio_proj``).

    AVSegFormer projects the 128-d VGGish embedding to the transformer's width once; the decode
    head (its audio token) and the authors' similarity head both read the projected embedding,
    so the projection belongs to the segmentor (``AVSegmentor(audio_neck=...)``), not to a head.

    Args:
        in_channels (int): Channels ``C_a`` of the audio backbone's embedding. Defaults to 128.
        out_channels (int): Channels of the projected embedding. Defaults to 256.
        init_cfg (dict, optional): Initialisation config; None keeps PyTorch's default Linear
            initialisation (as AVSegFormer).
    """

    def __init__(self, in_channels: int = 128, out_channels: int = 256, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.proj = nn.Linear(in_channels, out_channels)

    def forward(self, audio: Tensor) -> Tensor:
        """``[N, C_a]`` -> ``[N, out_channels]``."""
        if audio.dim() != 2 or audio.size(1) != self.in_channels:
            raise ValueError(f'AudioProjection: expected an audio embedding [N, '
                             f'{self.in_channels}], found {tuple(audio.shape)}')
        return self.proj(audio)
