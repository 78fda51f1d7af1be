# Copyright (c) mmavs contributors. All rights reserved.
"""Audio-driven channel gating in the AVSegFormer style.

AVSegFormer's audio-visual mixer (Gao et al., AAAI 2024) lets the projected audio embedding
attend, as a single query, over the visual positions (multi-head cross-attention, keys and values
projected from the visual map); the attended vector goes through a Linear layer and a sigmoid and
scales the visual channels: ``out = x * sigmoid(proj(attn(q=a, k=x, v=x)))``.

mmavs keeps that gate and changes two things, both documented in ``docs/model.md``:

* **residual gate** ``out = x * 2 * sigmoid(z) = x + x * tanh(z / 2)`` with the output projection
  zero-initialised: the block starts as the identity (AVSegFormer's plain sigmoid halves every
  channel at initialisation) and can still silence a channel (gate -> 0) or double it;
* **cheap exact attention**: with one audio query, ``q . (W_k x_j) = (W_k^T q) . x_j`` and
  ``sum_j alpha_j W_v x_j = W_v sum_j alpha_j x_j``, so neither keys nor values are ever
  materialised: ``O(heads * C * H * W)`` instead of ``O(C^2 * H * W)``. (Key/value biases are
  omitted, as in AVSegFormer's default ``qkv_bias=False``.)

``use_attention=False`` replaces the attention by a two-layer MLP on the audio alone (an
SE-style, audio-only gate). ``spatial_gate=True`` adds a spatial gate from the same audio-visual
affinity map (head-averaged attention logits), also starting as the identity.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from .base_fusion import BaseAVFusion


class ChannelGateBlock(nn.Module):
    """Audio-conditioned channel (and optional spatial) gate on one scale.

    Args:
        channels (int): Visual channels ``C``.
        audio_channels (int): Audio embedding channels ``C_a``.
        num_heads (int): Attention heads; must divide ``C``. Defaults to 1.
        use_attention (bool): Audio-query cross-attention over visual positions (AVSegFormer)
            instead of an audio-only MLP. Defaults to True.
        mlp_ratio (float): Hidden width of the audio-only MLP relative to ``C``. Defaults to 0.25.
        spatial_gate (bool): Also gate positions by the audio-visual affinity. Defaults to False.
    """

    def __init__(self,
                 channels: int,
                 audio_channels: int,
                 num_heads: int = 1,
                 use_attention: bool = True,
                 mlp_ratio: float = 0.25,
                 spatial_gate: bool = False) -> None:
        super().__init__()
        if use_attention and channels % num_heads != 0:
            raise ValueError(f'ChannelGateBlock: num_heads={num_heads} must divide the '
                             f'channels of every fused scale, found {channels} channels')
        if spatial_gate and not use_attention:
            raise ValueError('ChannelGateBlock: spatial_gate=True needs use_attention=True '
                             '(the spatial gate reuses the attention logits)')
        self.channels = channels
        self.num_heads = num_heads
        self.use_attention = use_attention
        self.audio_proj = nn.Linear(audio_channels, channels)
        if use_attention:
            head_dims = channels // num_heads
            self.scale = head_dims**-0.5
            self.q_proj = nn.Linear(channels, channels, bias=False)
            self.k_proj = nn.Linear(channels, channels, bias=False)
            self.v_proj = nn.Linear(channels, channels, bias=False)
            self.out_proj = nn.Linear(channels, channels)
        else:
            hidden = max(int(channels * mlp_ratio), 1)
            self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True))
            self.out_proj = nn.Linear(hidden, channels)
        nn.init.zeros_(self.out_proj.weight)
        nn.init.zeros_(self.out_proj.bias)
        # Spatial gate strength, zero-initialised so that the gate starts at 1.
        self.spatial_scale = nn.Parameter(torch.zeros(1)) if spatial_gate else None

    def attention(self, x: Tensor, query: Tensor):
        """Single-query multi-head cross-attention without materialised keys/values.

        Args:
            x (Tensor): Visual features ``[B, C, H, W]``.
            query (Tensor): Projected audio ``[B, C]``.

        Returns:
            tuple[Tensor, Tensor]: attended vector ``[B, C]`` and attention logits
            ``[B, heads, H * W]``.
        """
        b, c = x.shape[:2]
        heads, dims = self.num_heads, c // self.num_heads
        flat = x.flatten(2)  # [B, C, N]
        q = self.q_proj(query).view(b, heads, dims)  # [B, h, d]
        # q_h . (W_k x_j)_h = (W_k,h^T q_h) . x_j
        k_weight = self.k_proj.weight.view(heads, dims, c)  # [h, d, C]
        kernel = torch.einsum('bhd,hdc->bhc', q, k_weight)  # [B, h, C]
        logits = torch.einsum('bhc,bcn->bhn', kernel, flat) * self.scale  # [B, h, N]
        attn = logits.softmax(dim=-1)
        pooled = torch.einsum('bhn,bcn->bhc', attn, flat)  # [B, h, C] = sum_j a_j x_j
        v_weight = self.v_proj.weight.view(heads, dims, c)  # [h, d, C]
        values = torch.einsum('bhc,hdc->bhd', pooled, v_weight)  # [B, h, d]
        return values.reshape(b, c), logits

    def forward(self, x: Tensor, audio: Tensor) -> Tensor:
        """Gate.

        Args:
            x (Tensor): Visual features ``[B, C, H, W]``.
            audio (Tensor): Audio embedding ``[B, C_a]``.

        Returns:
            Tensor: ``[B, C, H, W]``.
        """
        query = self.audio_proj(audio)  # [B, C]
        logits = None
        if self.use_attention:
            context, logits = self.attention(x, query)
        else:
            context = self.mlp(query)
        gate = 2.0 * torch.sigmoid(self.out_proj(context))  # [B, C], 1 at initialisation
        out = x * gate[:, :, None, None]
        if self.spatial_scale is not None:
            b, _, h, w = x.shape
            affinity = logits.mean(dim=1).view(b, 1, h, w)
            affinity = affinity - affinity.mean(dim=(2, 3), keepdim=True)
            out = out * (2.0 * torch.sigmoid(self.spatial_scale * affinity))
        return out


@MODELS.register_module()
class ChannelGateFusion(BaseAVFusion):
    """AVSegFormer-style audio-driven channel gating on each selected visual scale.

    Args:
        in_channels (Sequence[int]): Channels of each fused scale.
        audio_channels (int): Audio embedding channels. Defaults to 128.
        in_index (Sequence[int], optional): Fused scales. Defaults to all of ``in_channels``.
        num_heads (int): Attention heads (must divide every fused scale's channels).
            Defaults to 1.
        use_attention (bool): Audio-query cross-attention (AVSegFormer) or audio-only MLP.
            Defaults to True.
        mlp_ratio (float): Hidden width ratio of the audio-only MLP. Defaults to 0.25.
        spatial_gate (bool): Add the spatial affinity gate. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 audio_channels: int = 128,
                 in_index: Optional[Sequence[int]] = None,
                 num_heads: int = 1,
                 use_attention: bool = True,
                 mlp_ratio: float = 0.25,
                 spatial_gate: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels, audio_channels, in_index, init_cfg)
        self.num_heads = num_heads
        self.use_attention = use_attention
        self.mlp_ratio = mlp_ratio
        self.spatial_gate = spatial_gate
        self.init_blocks()

    def build_block(self, channels: int) -> nn.Module:
        """One :class:`ChannelGateBlock` for a scale with ``channels`` channels."""
        return ChannelGateBlock(channels, self.audio_channels, self.num_heads, self.use_attention,
                                self.mlp_ratio, self.spatial_gate)
