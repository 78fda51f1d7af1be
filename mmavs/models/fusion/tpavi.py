# Copyright (c) mmavs contributors. All rights reserved.
"""TPAVI fusion (AVSBench, Zhou et al. ECCV 2022): a non-local block with the audio as partner.

The AVSBench TPAVI module projects the audio embedding to the visual channels
(``Linear(128, C)``), broadcasts it over every position, and runs a dot-product non-local block
between the visual map (queries ``theta`` and values ``g``) and the broadcast audio map
(keys ``phi``), all 1x1 projections to ``C' = C / 2``:

    f_ij = theta(x_i) . phi(a_j),    y_i = sum_j f_ij g(x_j) / N,    z = x + BN(W_z(y))

with ``N`` the number of positions and the BN affine zero-initialised, so the block starts as
the identity. (The release adds a channel LayerNorm after the residual: ``post_norm=True``.)

**Exact cheap form.** In mmavs every sample is one frame with one audio example, so the audio map
is the same vector ``a`` at every position: ``f_ij = theta(x_i) . phi(a)`` does not depend on
``j`` and the block reduces *exactly* to

    y_i = (theta(x_i) . phi(a)) * mean_j g(x_j)

Because ``theta`` and ``g`` are affine (1x1 convolutions), ``theta(x_i) . phi(a)`` is one
per-sample channel vector dotted with ``x_i`` and ``mean_j g(x_j) = g(mean_j x_j)``: the block
costs ``O(C * H * W)`` instead of the ``O((H * W)^2)`` affinity matrix, and gives the same numbers
(``tests/test_models/test_fusion/test_fusion.py`` checks it against the explicit non-local
computation).
The release's other modes do not transfer: with a spatially constant audio map the embedded
(softmax) variant's attention is uniform and ignores the audio entirely, so only the
dot-product mode (the AVSBench default) is provided.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmseg.registry import MODELS
from torch import Tensor

from .base_fusion import BaseAVFusion


class TPAVIBlock(nn.Module):
    """Dot-product audio-visual non-local block on one scale (see the module docstring).

    Args:
        channels (int): Visual channels ``C``.
        audio_channels (int): Audio embedding channels ``C_a``.
        inter_channels (int, optional): Inner channels ``C'``. Defaults to ``max(C // 2, 1)``.
        norm_cfg (dict, optional): Norm after ``W_z`` (zero-initialised affine). With None,
            ``W_z`` itself is zero-initialised. Defaults to ``dict(type='BN')``.
        post_norm (bool): Channel LayerNorm after the residual, as in the AVSBench release.
            Off by default so that the block starts as the identity on pretrained features.
    """

    def __init__(self,
                 channels: int,
                 audio_channels: int,
                 inter_channels: Optional[int] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 post_norm: bool = False) -> None:
        super().__init__()
        self.channels = channels
        self.inter_channels = inter_channels or max(channels // 2, 1)
        self.audio_proj = nn.Linear(audio_channels, channels)
        # 1x1 convolutions written as Linear layers over the channel axis.
        self.theta = nn.Linear(channels, self.inter_channels)
        self.phi = nn.Linear(channels, self.inter_channels)
        self.g = nn.Linear(channels, self.inter_channels)
        # W_z: a bias before a norm layer is redundant (the norm removes it).
        self.w_z = nn.Linear(self.inter_channels, channels, bias=norm_cfg is None)
        if norm_cfg is not None:
            self.norm = build_norm_layer(norm_cfg, channels)[1]
            nn.init.zeros_(self.norm.weight)
            nn.init.zeros_(self.norm.bias)
        else:
            self.norm = None
            nn.init.zeros_(self.w_z.weight)
            nn.init.zeros_(self.w_z.bias)
        self.post_norm = nn.LayerNorm(channels) if post_norm else None

    def affinity(self, x: Tensor, audio: Tensor) -> Tensor:
        """Audio-visual response ``theta(x_i) . phi(a)`` at every position.

        Args:
            x (Tensor): Visual features ``[B, C, H, W]``.
            audio (Tensor): Audio embedding ``[B, C_a]``.

        Returns:
            Tensor: ``[B, H, W]``.
        """
        phi_a = self.phi(self.audio_proj(audio))  # [B, C']
        kernel = phi_a @ self.theta.weight  # [B, C]
        offset = phi_a @ self.theta.bias  # [B]
        return torch.einsum('bchw,bc->bhw', x, kernel) + offset[:, None, None]

    def forward(self, x: Tensor, audio: Tensor) -> Tensor:
        """Fuse.

        Args:
            x (Tensor): Visual features ``[B, C, H, W]``.
            audio (Tensor): Audio embedding ``[B, C_a]``.

        Returns:
            Tensor: ``[B, C, H, W]``.
        """
        response = self.affinity(x, audio)  # [B, H, W]
        g_mean = self.g(x.mean(dim=(2, 3)))  # [B, C'] = mean_j g(x_j)
        # W_z(y) with y_i = response_i * g_mean (W_z is linear, its bias added once).
        w_y = response[:, None] * (g_mean @ self.w_z.weight.t())[:, :, None, None]
        if self.w_z.bias is not None:
            w_y = w_y + self.w_z.bias[None, :, None, None]
        if self.norm is not None:
            w_y = self.norm(w_y)
        z = x + w_y
        if self.post_norm is not None:
            z = self.post_norm(z.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return z


@MODELS.register_module()
class TPAVIFusion(BaseAVFusion):
    """TPAVI audio-visual fusion on each selected visual scale (AVSBench style).

    Args:
        in_channels (Sequence[int]): Channels of each fused scale.
        audio_channels (int): Audio embedding channels. Defaults to 128.
        in_index (Sequence[int], optional): Fused scales. Defaults to all of ``in_channels``.
        inter_ratio (float): ``C' = max(int(C * inter_ratio), 1)``. Defaults to 0.5 (AVSBench).
        norm_cfg (dict, optional): Norm after ``W_z``. Defaults to ``dict(type='BN')``
            (``SyncBN`` for multi-GPU training).
        post_norm (bool): Channel LayerNorm after the residual (AVSBench release). Defaults to
            False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 audio_channels: int = 128,
                 in_index: Optional[Sequence[int]] = None,
                 inter_ratio: float = 0.5,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 post_norm: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels, audio_channels, in_index, init_cfg)
        self.inter_ratio = inter_ratio
        self.norm_cfg = norm_cfg
        self.post_norm = post_norm
        self.init_blocks()

    def build_block(self, channels: int) -> nn.Module:
        """One :class:`TPAVIBlock` for a scale with ``channels`` channels."""
        return TPAVIBlock(channels, self.audio_channels, max(int(channels * self.inter_ratio), 1),
                          self.norm_cfg, self.post_norm)
