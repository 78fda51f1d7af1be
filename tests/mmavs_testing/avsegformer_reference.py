# Copyright (c) mmavs contributors. All rights reserved.
"""Independent plain-PyTorch restatement of AVSegFormer and AVSegFormer_robust, for equality tests.

The model follows the eval-mode forward of ``vvvb-github/AVSegFormer`` @ 7083cb6
(``model/AVSegFormer.py``, ``model/head/AVSegHead.py``, ``model/utils/*.py``,
``model/backbone/pvt.py``, ``model/vggish/vggish.py``, ``ops/modules/ms_deform_attn.py``) and of
``jiali-home/AVSBench-Robust`` @ 03e925d
(``training_evaluation/code/AVSegFormer/model/AVSegFormer_robust.py``). It was written from the
notes in ``/work/notes/avsegformer_facts.md`` and a reading of those files; no code was copied,
and nothing from mmcv, mmdet or mmseg is used: the PVT-v2, the VGGish, the sine positional
encoding, the dense multi-head attention and the multi-scale deformable attention (the
``grid_sample`` form of their ``ms_deform_attn_core_pytorch`` fallback) are written here with
``torch`` only.

State-dict keys, shapes and their order are those of the original model: ``backbone.*`` (PVT-v2,
original layout), ``vggish.*``, ``head.*`` (including the never-used ``head.fpn.*`` and
``head.attn_fc.*``), ``audio_proj.*`` and, for the robust model, ``cosine_sim.audio_proj.*``.
At full size that is 1413 tensors (1415 robust): backbone 1052, vggish 18, head 341,
audio_proj 2, cosine_sim 2.

How it was checked (once, by hand, in a scratch directory outside this repository; the original
code is not a dependency of the tests): the original Robust-repo modules, with ``timm`` and the
compiled deformable op stubbed out so that their pure-PyTorch fallback runs, were built (a) at
full size, giving the same 1415 keys in the same order with the same shapes, and (b) at a reduced
size compatible with their hard-coded widths (PVT (16, 32, 40, 64), head width 64, 8 heads,
GN 32, MLP 2048, fc 128/32, full VGGish, frames 3x3x64x96), loaded strictly with a state dict from
:func:`reference_state_dict`: pred, mask feature and cosine agreed with max |diff| = 0.0 on CPU,
with and without a temporal mask, for ``AVSegFormer`` and ``AVSegFormer_robust``.

Facts used that the notes do not state, or state less precisely, and where they were read (paths
in the AVSegFormer repo unless said otherwise):

* ``model/utils/transformer.py``: the encoder layer's MSDeformAttn is
  ``MSDeformAttn(dim, num_levels=3, num_heads=8, num_points=4)`` (layer defaults; the configs
  do not override them); the decoder layer's two ``nn.MultiheadAttention`` get ``dropout=0.1``
  (attention dropout, besides the residual dropouts). ``AVSTransformer._reset_parameters`` exists
  but is never called.
* ``model/utils/transformer.py``: encoder reference points are
  ``linspace(0.5, H_l - 0.5, H_l) / (valid_ratio * H_l)`` (same for x); with all valid ratios 1
  these are exactly ``(i + 0.5) / H_l``. Their shape is ``[N, L, n_levels, 2]``, the same point
  repeated for every level.
* ``ops/modules/ms_deform_attn.py``: the value is ``value_proj(input_flatten)`` where
  ``input_flatten`` is the encoder ``src`` *without* the positional embedding, while offsets and
  attention weights come from ``src + pos``. The offset normaliser is ``(W_l, H_l)``: offsets are
  pixels of each level, added to reference points in ``(x, y)`` order.
* ``ops/functions/ms_deform_attn_func.py``: the fallback stacks the per-level samples on dim -2,
  flattens (levels, points) into one axis of L*P, multiplies by the softmaxed weights and sums
  over that axis; heads are the leading batch factor (``N*M``); the output is ``[N, Lq, M*D]``.
* ``model/head/AVSegHead.py``: ``in_proj`` GroupNorm has a hard-coded 32 groups; the query-axis
  ``MLP`` is ``MLP(query_num, 2048, embed_dim, 3)``; ``SimpleFPN()`` is built with its default
  ``channel=256`` (here ``embed_dim``: equal at full size); ``attn_fc`` and ``fc`` have the same
  architecture (conv3x3 embed->128, Interpolate x``scale_factor``=4 bilinear
  align_corners=False, conv3x3 128->32, ReLU, conv1x1 32->1 without bias). ``Interpolate``
  passes ``scale_factor`` (not a size) to ``F.interpolate``, as done here; the upsampling of the
  stride-8 memory level into the mask feature passes ``size=`` (bilinear, align_corners=False).
* ``model/head/AVSegHead.py``: the registration order of the head (level_embed,
  learnable_query, query_generator, transformer, in_proj, mlp, fusion_block, lateral_conv,
  out_conv, fpn, attn_fc, fc) is kept, so ``state_dict()`` key order matches too.
* ``model/utils/query_generator.py``: ``AttentionLayer`` norms are ``nn.LayerNorm`` (eps 1e-5)
  and the FFN is ``Sequential(Linear, GELU, Linear)`` (keys ``ffn.0``/``ffn.2``); its
  ``nn.MultiheadAttention`` has ``bias=False`` and no dropout. The audio token is key and value
  of the cross attention: one key, so that softmax is exactly 1.
* ``model/utils/fusion_block.py``: CrossModalMixer scale ``(dim // n_heads) ** -0.5`` is applied
  after ``q @ k^T``; ``kv`` is reshaped to ``[B, HW, 2, heads, hd]`` and k is index 0. Their
  ``x.squeeze()`` (and the Robust repo's ``unsqueeze(1)`` patch) is wrong for a batch of 1; the
  reference reshapes the gate to ``[N, C]``, which equals theirs for every N > 1.
* ``model/utils/positional_encoding.py``: ``dim_t = temperature ** (2 * (k // 2) / num_feats)``
  in float32; ``pos = cat(pos_y, pos_x)``; the mask is all False, so the embeds are ``cumsum``
  of ones (1..H, 1..W).
* ``model/backbone/pvt.py``: the PVT attention scale is applied after ``q @ k^T``; the Mlp has
  dropout after GELU and again after fc2 (both p = 0); the patch-embed conv has
  ``padding = patch_size // 2`` (3 for the 7x7, 1 for the 3x3) and H, W come from its output.
* ``model/vggish/vggish.py``: ``features`` are 3x3 convs (padding 1) + ReLU and 2x2 max-pools;
  the embedding input is ``512 * 4 * 6``. Here the VGG widths are constructor arguments so tests
  can shrink the 72M-parameter VGGish; the last conv width times 24 is the flatten size.
* ``training_evaluation/code/AVSegFormer/model/AVSegFormer_robust.py`` (Robust repo):
  ``CosineModule`` projects the post-``audio_proj`` audio token (``Linear(256, 512)``: head
  embed dim -> last PVT width) and compares it with ``adaptive_avg_pool2d(img_feat[3], 1)``
  through ``nn.CosineSimilarity(dim=1)`` (eps 1e-8). Here the cosine is
  ``sum(a_hat * v_hat)`` with ``x_hat = x / max(||x||, eps)``, as current torch computes it.
* ``model/AVSegFormer.py``: the VGGish runs under ``torch.no_grad()`` (kept: no gradient reaches
  ``vggish.*``); the temporal mask flag (AVSS only) multiplies every backbone feature, the
  prediction and the mask feature, and the robust cosine uses the masked stage-4 feature.

In eval mode nothing is random: the dropouts (p = 0.1 in the encoder/decoder, 0 elsewhere) sit
where the original has them and are identities after ``model.eval()``; DropPath is left out
(identity in eval). Frame sizes must be multiples of 32.
"""
import math
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------------------------
# PVT-v2 (original layout: patch_embed{s}, block{s}.{j}, norm{s})
# ----------------------------------------------------------------------------------------------


class _OverlapPatchEmbed(nn.Module):
    """Strided conv (``padding = k // 2``), then tokens ``[B, HW, C]`` and LayerNorm (eps 1e-5)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int):
        super().__init__()
        self.proj = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2)
        self.norm = nn.LayerNorm(out_ch, eps=1e-5)

    def forward(self, x):
        x = self.proj(x)
        h, w = x.shape[-2:]
        tokens = self.norm(x.flatten(2).transpose(1, 2))
        return tokens, h, w


class _SpatialReductionAttention(nn.Module):
    """Multi-head attention whose keys/values come from a ``sr x sr`` strided conv of the tokens."""

    def __init__(self, dim: int, heads: int, sr_ratio: int):
        super().__init__()
        assert dim % heads == 0
        self.heads = heads
        self.scale = (dim // heads)**-0.5
        self.sr_ratio = sr_ratio
        self.q = nn.Linear(dim, dim, bias=True)
        self.kv = nn.Linear(dim, 2 * dim, bias=True)
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x, h, w):
        b, n, c = x.shape
        hd = c // self.heads
        q = self.q(x).reshape(b, n, self.heads, hd).permute(0, 2, 1, 3)
        src = x
        if self.sr_ratio > 1:
            grid = x.permute(0, 2, 1).reshape(b, c, h, w)
            src = self.norm(self.sr(grid).reshape(b, c, -1).permute(0, 2, 1))
        kv = self.kv(src).reshape(b, -1, 2, self.heads, hd).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        attn = self.attn_drop(((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1))
        out = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(out))


class _DepthwiseConv(nn.Module):

    def __init__(self, ch: int):
        super().__init__()
        self.dwconv = nn.Conv2d(ch, ch, 3, stride=1, padding=1, groups=ch, bias=True)

    def forward(self, x, h, w):
        b, n, c = x.shape
        x = self.dwconv(x.transpose(1, 2).reshape(b, c, h, w))
        return x.flatten(2).transpose(1, 2)


class _ConvFFN(nn.Module):
    """fc1 -> depthwise 3x3 -> GELU (erf) -> dropout -> fc2 -> dropout."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = _DepthwiseConv(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(0.0)

    def forward(self, x, h, w):
        x = self.drop(self.act(self.dwconv(self.fc1(x), h, w)))
        return self.drop(self.fc2(x))


class _PVTBlock(nn.Module):
    """Pre-norm block (norm1/norm2 eps 1e-6); DropPath omitted (identity in eval)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, sr_ratio: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = _SpatialReductionAttention(dim, heads, sr_ratio)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = _ConvFFN(dim, int(dim * mlp_ratio))

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class ReferencePVTv2(nn.Module):
    """PVT-v2 (non-linear SRA) with the original key layout; returns the 4 NCHW stage outputs."""

    def __init__(self,
                 embed_dims: Sequence[int] = (64, 128, 320, 512),
                 num_heads: Sequence[int] = (1, 2, 5, 8),
                 mlp_ratios: Sequence[float] = (4, 4, 4, 4),
                 depths: Sequence[int] = (3, 6, 40, 3),
                 sr_ratios: Sequence[int] = (8, 4, 2, 1),
                 in_chans: int = 3):
        super().__init__()
        self.num_stages = len(embed_dims)
        for i in range(self.num_stages):
            in_ch = in_chans if i == 0 else embed_dims[i - 1]
            kernel, stride = (7, 4) if i == 0 else (3, 2)
            setattr(self, f'patch_embed{i + 1}',
                    _OverlapPatchEmbed(in_ch, embed_dims[i], kernel, stride))
            setattr(
                self, f'block{i + 1}',
                nn.ModuleList(
                    _PVTBlock(embed_dims[i], num_heads[i], mlp_ratios[i], sr_ratios[i])
                    for _ in range(depths[i])))
            setattr(self, f'norm{i + 1}', nn.LayerNorm(embed_dims[i], eps=1e-6))

    def forward(self, x) -> List[torch.Tensor]:
        b = x.shape[0]
        outs = []
        for i in range(1, self.num_stages + 1):
            tokens, h, w = getattr(self, f'patch_embed{i}')(x)
            for blk in getattr(self, f'block{i}'):
                tokens = blk(tokens, h, w)
            tokens = getattr(self, f'norm{i}')(tokens)
            x = tokens.reshape(b, h, w, -1).permute(0, 3, 1, 2).contiguous()
            outs.append(x)
        return outs


# ----------------------------------------------------------------------------------------------
# VGGish (raw 128-d embedding, final ReLU, no PCA)
# ----------------------------------------------------------------------------------------------


class ReferenceVGGish(nn.Module):
    """``features`` (indices 0,3,6,8,11,13 are convs) and ``embeddings`` (0,2,4 are Linear)."""

    def __init__(self,
                 channels: Sequence[int] = (64, 128, 256, 256, 512, 512),
                 fc_dims: Sequence[int] = (4096, 4096),
                 out_dim: int = 128):
        super().__init__()
        assert len(channels) == 6 and len(fc_dims) == 2
        plan = [
            channels[0], 'M', channels[1], 'M', channels[2], channels[3], 'M', channels[4],
            channels[5], 'M'
        ]
        layers: List[nn.Module] = []
        prev = 1
        for item in plan:
            if item == 'M':
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(prev, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                prev = item
        self.features = nn.Sequential(*layers)
        # 96x64 log-mel -> 6x4 after four 2x2 pools
        self.embeddings = nn.Sequential(
            nn.Linear(prev * 6 * 4, fc_dims[0]), nn.ReLU(True), nn.Linear(fc_dims[0], fc_dims[1]),
            nn.ReLU(True), nn.Linear(fc_dims[1], out_dim), nn.ReLU(True))

    def forward(self, x):
        x = self.features(x)  # [N, C, 6, 4]
        # their transpose(1, 3) then transpose(1, 2): [N, C, H, W] -> [N, H, W, C]
        x = x.permute(0, 2, 3, 1).contiguous().reshape(x.shape[0], -1)
        return self.embeddings(x)


# ----------------------------------------------------------------------------------------------
# Attention primitives
# ----------------------------------------------------------------------------------------------


class _DenseMHA(nn.Module):
    """Batch-first multi-head attention with ``nn.MultiheadAttention``'s parameter names.

    ``in_proj_weight`` rows are [q; k; v]; q is scaled by ``hd ** -0.5`` before ``q @ k^T`` (as
    torch does); attention dropout after the softmax.
    """

    def __init__(self, dim: int, heads: int, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        assert dim % heads == 0
        self.dim, self.heads, self.dropout = dim, heads, dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        else:
            self.register_parameter('in_proj_bias', None)
        self.out_proj = nn.Linear(dim, dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, query, key, value):
        b, lq, c = query.shape
        lk = key.shape[1]
        hd = c // self.heads
        wq, wk, wv = self.in_proj_weight.chunk(3, dim=0)
        bq = bk = bv = None
        if self.in_proj_bias is not None:
            bq, bk, bv = self.in_proj_bias.chunk(3, dim=0)
        q = F.linear(query, wq, bq).reshape(b, lq, self.heads, hd).transpose(1, 2)
        k = F.linear(key, wk, bk).reshape(b, lk, self.heads, hd).transpose(1, 2)
        v = F.linear(value, wv, bv).reshape(b, lk, self.heads, hd).transpose(1, 2)
        attn = (q * hd**-0.5) @ k.transpose(-2, -1)
        attn = F.dropout(attn.softmax(dim=-1), p=self.dropout, training=self.training)
        out = (attn @ v).transpose(1, 2).reshape(b, lq, c)
        return self.out_proj(out)


def sine_position_encoding(batch: int,
                           height: int,
                           width: int,
                           num_feats: int,
                           temperature: float = 10000,
                           device=None) -> torch.Tensor:
    """DETR sine encoding with ``normalize=False`` for an unpadded map: ``[B, 2*num_feats, H, W]``.

    Raw positions 1..H / 1..W divided by ``temperature ** (2 * (k // 2) / num_feats)``; channels are
    (sin, cos) interleaved pairs, the y half first.
    """
    ys = torch.arange(1, height + 1, dtype=torch.float32, device=device)
    xs = torch.arange(1, width + 1, dtype=torch.float32, device=device)
    k = torch.arange(num_feats, dtype=torch.float32, device=device)
    dim_t = temperature**(2 * torch.div(k, 2, rounding_mode='floor') / num_feats)

    def encode(p):  # [L] -> [L, num_feats]
        ang = p[:, None] / dim_t
        return torch.stack((ang[:, 0::2].sin(), ang[:, 1::2].cos()),
                           dim=2).reshape(p.shape[0], num_feats)

    ey = encode(ys)[:, None, :].expand(height, width, num_feats)
    ex = encode(xs)[None, :, :].expand(height, width, num_feats)
    pos = torch.cat((ey, ex), dim=2).permute(2, 0, 1)
    return pos.unsqueeze(0).expand(batch, -1, -1, -1).contiguous()


def deformable_sample(value: torch.Tensor, shapes: Sequence[Tuple[int, int]],
                      locations: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Multi-scale deformable sampling: bilinear ``grid_sample``, zeros padding, no corner align.

    value [N, S, M, D]; locations [N, Lq, M, L, P, 2] in [0, 1] (x, y); weights [N, Lq, M, L, P].
    Returns [N, Lq, M*D].
    """
    n, _, m, d = value.shape
    _, lq, _, n_lvl, n_pts, _ = locations.shape
    grids = 2 * locations - 1
    samples = []
    start = 0
    for lvl, (h, w) in enumerate(shapes):
        v = value[:, start:start + h * w].permute(0, 2, 3, 1).reshape(n * m, d, h, w)
        start += h * w
        g = grids[:, :, :, lvl].permute(0, 2, 1, 3, 4).reshape(n * m, lq, n_pts, 2)
        samples.append(
            F.grid_sample(v, g, mode='bilinear', padding_mode='zeros', align_corners=False))
    stacked = torch.stack(samples, dim=-2).reshape(n * m, d, lq, n_lvl * n_pts)
    w = weights.permute(0, 2, 1, 3, 4).reshape(n * m, 1, lq, n_lvl * n_pts)
    out = (stacked * w).sum(-1).reshape(n, m * d, lq)
    return out.transpose(1, 2).contiguous()


class _MSDeformAttn(nn.Module):
    """Deformable-DETR MSDeformAttn (2-d reference points only), without the residual."""

    def __init__(self, dim: int, levels: int, heads: int, points: int):
        super().__init__()
        self.dim, self.levels, self.heads, self.points = dim, levels, heads, points
        self.sampling_offsets = nn.Linear(dim, heads * levels * points * 2)
        self.attention_weights = nn.Linear(dim, heads * levels * points)
        self.value_proj = nn.Linear(dim, dim)
        self.output_proj = nn.Linear(dim, dim)

    def forward(self, query, reference_points, src, shapes):
        n, lq, _ = query.shape
        s = src.shape[1]
        value = self.value_proj(src).reshape(n, s, self.heads, self.dim // self.heads)
        offsets = self.sampling_offsets(query).reshape(n, lq, self.heads, self.levels, self.points,
                                                       2)
        logits = self.attention_weights(query).reshape(n, lq, self.heads, self.levels * self.points)
        weights = logits.softmax(-1).reshape(n, lq, self.heads, self.levels, self.points)
        # pixels -> normalised: divide x by W_l and y by H_l
        norm = torch.tensor([[w, h] for h, w in shapes], dtype=query.dtype, device=query.device)
        locations = reference_points[:, :, None, :,
                                     None, :] + offsets / norm[None, None, None, :, None, :]
        return self.output_proj(deformable_sample(value, shapes, locations, weights))


# ----------------------------------------------------------------------------------------------
# AVSegHead pieces
# ----------------------------------------------------------------------------------------------


class _EncoderLayer(nn.Module):
    """Post-norm deformable encoder layer, GELU FFN; dropout1 (attn), dropout2/3 (hidden, out)."""

    def __init__(self, dim, ffn_dim, dropout, levels, heads, points):
        super().__init__()
        self.self_attn = _MSDeformAttn(dim, levels, heads, points)
        self.dropout1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.activation = nn.GELU()
        self.dropout2 = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.dropout3 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, src, pos, reference_points, shapes):
        src = self.norm1(src +
                         self.dropout1(self.self_attn(src + pos, reference_points, src, shapes)))
        hidden = self.linear2(self.dropout2(self.activation(self.linear1(src))))
        return self.norm2(src + self.dropout3(hidden))


class _Encoder(nn.Module):

    def __init__(self, num_layers, **layer_kw):
        super().__init__()
        self.layers = nn.ModuleList(_EncoderLayer(**layer_kw) for _ in range(num_layers))

    @staticmethod
    def reference_points(shapes, batch, device):
        per_level = []
        for h, w in shapes:
            ry = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) / h
            rx = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) / w
            gy, gx = torch.meshgrid(ry, rx, indexing='ij')
            per_level.append(torch.stack((gx.reshape(-1), gy.reshape(-1)), -1))
        ref = torch.cat(per_level, 0)  # [L, 2] (x, y)
        return ref[None, :, None, :].expand(batch, -1, len(shapes), -1)

    def forward(self, src, pos, shapes):
        ref = self.reference_points(shapes, src.shape[0], src.device).to(src.dtype)
        for layer in self.layers:
            src = layer(src, pos, ref, shapes)
        return src


class _DecoderLayer(nn.Module):
    """Post-norm decoder layer: dense self-attn, dense cross-attn on the memory, GELU FFN."""

    def __init__(self, dim, heads, ffn_dim, dropout):
        super().__init__()
        self.self_attn = _DenseMHA(dim, heads, bias=True, dropout=dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn = _DenseMHA(dim, heads, bias=True, dropout=dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.activation = nn.GELU()
        self.dropout3 = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.dropout4 = nn.Dropout(dropout)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, q, memory):
        q = self.norm1(q + self.dropout1(self.self_attn(q, q, q)))
        q = self.norm2(q + self.dropout2(self.cross_attn(q, memory, memory)))
        hidden = self.linear2(self.dropout3(self.activation(self.linear1(q))))
        return self.norm3(q + self.dropout4(hidden))


class _Decoder(nn.Module):

    def __init__(self, num_layers, **layer_kw):
        super().__init__()
        self.layers = nn.ModuleList(_DecoderLayer(**layer_kw) for _ in range(num_layers))

    def forward(self, q, memory):
        outputs = []
        for layer in self.layers:
            q = layer(q, memory)
            outputs.append(q)
        return outputs


class _Transformer(nn.Module):

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder


class _GeneratorLayer(nn.Module):
    """Post-norm, no dropout, bias-free MHAs: self-attn on queries, cross-attn to the audio."""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.self_attn = _DenseMHA(dim, heads, bias=False)
        self.cross_attn = _DenseMHA(dim, heads, bias=False)
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, q, audio):
        q = self.norm1(q + self.self_attn(q, q, q))
        q = self.norm2(q + self.cross_attn(q, audio, audio))
        return self.norm3(q + self.ffn(q))


class _QueryGenerator(nn.Module):

    def __init__(self, num_layers, query_num, dim, heads, hidden):
        super().__init__()
        self.query = nn.Embedding(query_num, dim)
        self.layers = nn.ModuleList(_GeneratorLayer(dim, heads, hidden) for _ in range(num_layers))

    def forward(self, audio):
        q = self.query.weight.unsqueeze(0).repeat(audio.shape[0], 1, 1)
        for layer in self.layers:
            q = layer(q, audio)
        return q


class _CrossModalMixer(nn.Module):
    """Audio-query attention over pixels -> sigmoid channel gate on the map (no residual)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads)**-0.5
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.kv_proj = nn.Linear(dim, 2 * dim, bias=False)
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, fmap, audio):
        flat = fmap.flatten(2).transpose(1, 2)
        b, n, c = flat.shape
        hd = c // self.heads
        q = self.q_proj(audio).reshape(b, 1, self.heads, hd).permute(0, 2, 1, 3)
        kv = self.kv_proj(flat).reshape(b, n, 2, self.heads, hd).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, 1, c)
        gate = self.proj_drop(self.proj(x)).sigmoid().reshape(b, c)
        return fmap * gate[:, :, None, None]


class _QueryAxisMLP(nn.Module):
    """1x1 convs over the query-channel axis, ReLU between layers (not after the last)."""

    def __init__(self, in_dim, hidden, out_dim, num_layers=3):
        super().__init__()
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size=1) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        last = len(self.layers) - 1
        for i, conv in enumerate(self.layers):
            x = conv(x)
            if i < last:
                x = F.relu(x)
        return x


class _Upsample(nn.Module):
    """Parameter-free bilinear upsampling by a scale factor (align_corners=False)."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return F.interpolate(x, scale_factor=self.scale, mode='bilinear', align_corners=False)


class _UnusedFPN(nn.Module):
    """Their ``SimpleFPN``: only here for the ``head.fpn.up{1,2,3}.1.*`` keys; never called."""

    def __init__(self, ch):
        super().__init__()
        for i in (1, 2, 3):
            setattr(self, f'up{i}', nn.Sequential(_Upsample(2), nn.Conv2d(ch, ch, 3, padding=1)))


def _predictor(embed_dim, fc_dims, scale, num_classes=1):
    return nn.Sequential(
        nn.Conv2d(embed_dim, fc_dims[0], 3, padding=1), _Upsample(scale),
        nn.Conv2d(fc_dims[0], fc_dims[1], 3, padding=1), nn.ReLU(True),
        nn.Conv2d(fc_dims[1], num_classes, 1, bias=False))


class ReferenceAVSegHead(nn.Module):
    """AVSegHead: in_proj (conv1x1 + GN), 3-level deformable encoder, audio-conditioned queries,
    dense decoder, mask feature (lateral + upsampled memory level 0, conv3x3+GN+ReLU, mixer) and the
    einsum -> query-axis MLP -> residual -> fc predictor."""

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 320, 512),
                 embed_dim: int = 256,
                 num_heads: int = 8,
                 num_queries: int = 300,
                 enc_layers: int = 6,
                 dec_layers: int = 6,
                 qg_layers: int = 6,
                 enc_ffn_dim: int = 2048,
                 dec_ffn_dim: int = 2048,
                 qg_ffn_dim: int = 1024,
                 num_points: int = 4,
                 gn_groups: int = 32,
                 mlp_hidden: int = 2048,
                 fc_dims: Sequence[int] = (128, 32),
                 dropout: float = 0.1,
                 scale_factor: int = 4,
                 num_classes: int = 1):
        super().__init__()
        assert embed_dim % 2 == 0
        self.embed_dim = embed_dim
        self.valid_indices = (1, 2, 3)
        levels = len(self.valid_indices)
        self.level_embed = nn.Parameter(torch.zeros(levels, embed_dim))
        self.learnable_query = nn.Embedding(num_queries, embed_dim)
        self.query_generator = _QueryGenerator(qg_layers, num_queries, embed_dim, num_heads,
                                               qg_ffn_dim)
        self.transformer = _Transformer(
            _Encoder(
                enc_layers,
                dim=embed_dim,
                ffn_dim=enc_ffn_dim,
                dropout=dropout,
                levels=levels,
                heads=num_heads,
                points=num_points),
            _Decoder(
                dec_layers, dim=embed_dim, heads=num_heads, ffn_dim=dec_ffn_dim, dropout=dropout))
        self.in_proj = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, embed_dim, kernel_size=1), nn.GroupNorm(gn_groups, embed_dim))
            for c in in_channels)
        self.mlp = _QueryAxisMLP(num_queries, mlp_hidden, embed_dim, 3)
        self.fusion_block = _CrossModalMixer(embed_dim, num_heads)
        self.lateral_conv = nn.Sequential(
            nn.Conv2d(embed_dim, embed_dim, 1), nn.GroupNorm(gn_groups, embed_dim))
        self.out_conv = nn.Sequential(
            nn.Conv2d(embed_dim, embed_dim, 3, padding=1), nn.GroupNorm(gn_groups, embed_dim),
            nn.ReLU(True))
        self.fpn = _UnusedFPN(embed_dim)
        self.attn_fc = _predictor(embed_dim, fc_dims, scale_factor, num_classes)  # unused
        self.fc = _predictor(embed_dim, fc_dims, scale_factor, num_classes)

    def forward(self,
                feats: Sequence[torch.Tensor],
                audio: torch.Tensor,
                return_intermediates: bool = False):
        n = audio.shape[0]
        c = self.embed_dim
        feat4 = self.in_proj[0](feats[0])
        srcs = [self.in_proj[i](feats[i]) for i in self.valid_indices]
        shapes = [tuple(s.shape[-2:]) for s in srcs]
        tokens, pos_tokens = [], []
        for lvl, s in enumerate(srcs):
            h, w = s.shape[-2:]
            pos = sine_position_encoding(s.shape[0], h, w, c // 2, device=s.device).to(s.dtype)
            tokens.append(s.flatten(2).transpose(1, 2))
            pos_tokens.append(pos.flatten(2).transpose(1, 2) + self.level_embed[lvl].view(1, 1, -1))
        src = torch.cat(tokens, 1)
        pos = torch.cat(pos_tokens, 1)

        query = self.query_generator(audio)
        query = query + self.learnable_query.weight.unsqueeze(0).repeat(n, 1, 1)

        memory = self.transformer.encoder(src, pos, shapes)
        outputs = self.transformer.decoder(query, memory)

        h0, w0 = shapes[0]
        level0 = memory[:, :h0 * w0].transpose(1, 2).reshape(n, c, h0, w0)
        lateral = self.lateral_conv(feat4)
        mf = lateral + F.interpolate(
            level0, size=lateral.shape[-2:], mode='bilinear', align_corners=False)
        mf = self.out_conv(mf)
        mf = self.fusion_block(mf, audio)

        per_query = torch.einsum('bqc,bchw->bqhw', outputs[-1], mf)
        pred = self.fc(mf + self.mlp(per_query))
        if return_intermediates:
            return pred, mf, dict(
                memory=memory, decoder_outputs=outputs, queries=query, src=src, pos=pos)
        return pred, mf


class _CosineModule(nn.Module):

    def __init__(self, audio_dim: int = 256, visual_dim: int = 512, eps: float = 1e-8):
        super().__init__()
        self.eps = eps
        self.audio_proj = nn.Linear(audio_dim, visual_dim)

    def forward(self, audio, visual):
        a = self.audio_proj(audio.squeeze(1))
        v = visual.mean(dim=(2, 3))  # adaptive_avg_pool2d to 1x1
        a = a / a.norm(dim=1, keepdim=True).clamp_min(self.eps)
        v = v / v.norm(dim=1, keepdim=True).clamp_min(self.eps)
        return (a * v).sum(dim=1)


# ----------------------------------------------------------------------------------------------
# Top level
# ----------------------------------------------------------------------------------------------


class ReferenceAVSegFormer(nn.Module):
    """AVSegFormer (``robust=False``) or AVSegFormer_robust (``robust=True``), original key layout.

    Defaults are the paper's PVT-v2-b5 configuration. ``forward(frames [N,3,H,W], log_mel [N,96,64]
    or [N,1,96,64])`` returns ``dict(pred=[N,1,H,W] logits, mask_feature=[N,C,H/4,W/4])`` plus
    ``cosine=[N]`` when robust. H and W must be multiples of 32 for the strides to line up.
    """

    def __init__(self,
                 robust: bool = False,
                 pvt_embed_dims: Sequence[int] = (64, 128, 320, 512),
                 pvt_num_heads: Sequence[int] = (1, 2, 5, 8),
                 pvt_mlp_ratios: Sequence[float] = (4, 4, 4, 4),
                 pvt_depths: Sequence[int] = (3, 6, 40, 3),
                 pvt_sr_ratios: Sequence[int] = (8, 4, 2, 1),
                 embed_dim: int = 256,
                 num_heads: int = 8,
                 num_queries: int = 300,
                 enc_layers: int = 6,
                 dec_layers: int = 6,
                 qg_layers: int = 6,
                 enc_ffn_dim: int = 2048,
                 dec_ffn_dim: int = 2048,
                 qg_ffn_dim: int = 1024,
                 num_points: int = 4,
                 gn_groups: int = 32,
                 mlp_hidden: int = 2048,
                 fc_dims: Sequence[int] = (128, 32),
                 cosine_dim: Optional[int] = None,
                 vggish_channels: Sequence[int] = (64, 128, 256, 256, 512, 512),
                 vggish_fc_dims: Sequence[int] = (4096, 4096),
                 audio_dim: int = 128,
                 dropout: float = 0.1):
        super().__init__()
        self.robust = robust
        self.backbone = ReferencePVTv2(pvt_embed_dims, pvt_num_heads, pvt_mlp_ratios, pvt_depths,
                                       pvt_sr_ratios)
        self.vggish = ReferenceVGGish(vggish_channels, vggish_fc_dims, audio_dim)
        self.head = ReferenceAVSegHead(
            in_channels=pvt_embed_dims,
            embed_dim=embed_dim,
            num_heads=num_heads,
            num_queries=num_queries,
            enc_layers=enc_layers,
            dec_layers=dec_layers,
            qg_layers=qg_layers,
            enc_ffn_dim=enc_ffn_dim,
            dec_ffn_dim=dec_ffn_dim,
            qg_ffn_dim=qg_ffn_dim,
            num_points=num_points,
            gn_groups=gn_groups,
            mlp_hidden=mlp_hidden,
            fc_dims=fc_dims,
            dropout=dropout)
        self.audio_proj = nn.Linear(audio_dim, embed_dim)
        if robust:
            visual = pvt_embed_dims[-1] if cosine_dim is None else cosine_dim
            self.cosine_sim = _CosineModule(embed_dim, visual)

    def forward(self,
                frames: torch.Tensor,
                log_mel: torch.Tensor,
                temporal_mask: Optional[torch.Tensor] = None,
                return_intermediates: bool = False) -> Dict[str, torch.Tensor]:
        if log_mel.dim() == 3:
            log_mel = log_mel.unsqueeze(1)
        flag = None if temporal_mask is None else temporal_mask.reshape(-1, 1, 1, 1).to(
            frames.dtype)
        with torch.no_grad():
            embedding = self.vggish(log_mel)  # [N, 128]
        audio = self.audio_proj(embedding.unsqueeze(1))  # [N, 1, C]
        feats = self.backbone(frames)
        if flag is not None:
            feats = [f * flag for f in feats]
        head_out = self.head(feats, audio, return_intermediates)
        pred, mf = head_out[0], head_out[1]
        if flag is not None:
            pred, mf = pred * flag, mf * flag
        out = dict(pred=pred, mask_feature=mf)
        if self.robust:
            out['cosine'] = self.cosine_sim(audio, feats[3])
        if return_intermediates:
            out.update(head_out[2])
            out.update(backbone_feats=feats, vggish_embedding=embedding, audio_feat=audio)
        return out


# ----------------------------------------------------------------------------------------------
# Seeded construction
# ----------------------------------------------------------------------------------------------

#: Reduced sizes that keep one CPU forward at 64x64 around a second (or less).
TINY_SIZES = dict(
    pvt_embed_dims=(16, 32, 40, 64),
    pvt_num_heads=(1, 2, 5, 8),
    pvt_mlp_ratios=(2, 2, 2, 2),
    pvt_depths=(1, 2, 2, 1),
    pvt_sr_ratios=(8, 4, 2, 1),
    embed_dim=32,
    num_heads=4,
    num_queries=12,
    enc_layers=2,
    dec_layers=2,
    qg_layers=2,
    enc_ffn_dim=48,
    dec_ffn_dim=40,
    qg_ffn_dim=24,
    num_points=3,
    gn_groups=8,
    mlp_hidden=20,
    fc_dims=(16, 8),
    vggish_channels=(4, 8, 8, 8, 16, 16),
    vggish_fc_dims=(48, 40),
)


@torch.no_grad()
def randomize_parameters(model: nn.Module, seed: int, gain: float = math.sqrt(2)) -> nn.Module:
    """Re-draw every parameter from a normal, deterministically from ``seed``.

    * weights with >= 2 dims: N(0, gain / sqrt(fan_in)), fan_in = numel / out (gain sqrt(2) keeps
      the VGGish ReLU stack from shrinking the audio embedding, so the audio path stays visible);
    * query embeddings and ``level_embed``: N(0, 1);
    * LayerNorm / GroupNorm: weight 1 + N(0, 0.2), bias N(0, 0.2);
    * deformable ``sampling_offsets.bias``: N(0, 2) pixels (their init is a fixed grid, weight 0);
    * every other 1-d parameter (biases): N(0, 0.2).
    Nothing stays zero, so zero-initialised parts (offsets, attention weights, biases) are
    exercised.
    """
    gen = torch.Generator().manual_seed(seed)
    norm_types = (nn.LayerNorm, nn.GroupNorm)
    for mod_name, module in model.named_modules():
        for p_name, p in module.named_parameters(recurse=False):
            full = f'{mod_name}.{p_name}' if mod_name else p_name
            z = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if isinstance(module, norm_types):
                val = 1 + 0.2 * z if p_name == 'weight' else 0.2 * z
            elif isinstance(module, nn.Embedding) or full.endswith('level_embed'):
                val = z
            elif full.endswith('sampling_offsets.bias'):
                val = 2.0 * z
            elif p.dim() >= 2:
                fan_in = p[0].numel()
                val = z * (gain / math.sqrt(fan_in))
            else:
                val = 0.2 * z
            p.copy_(val.to(p.dtype))
    return model


def reference_state_dict(seed: int = 0,
                         robust: bool = False,
                         gain: float = math.sqrt(2),
                         **sizes) -> Tuple[ReferenceAVSegFormer, 'OrderedDict[str, torch.Tensor]']:
    """Build a seeded reference model in eval mode; return it and a detached copy of its weights."""
    model = ReferenceAVSegFormer(robust=robust, **sizes)
    randomize_parameters(model, seed, gain)
    model.eval()
    sd = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
    return model, sd


def head_key_groups(state_dict) -> Dict[str, int]:
    """Count ``head.*`` keys by their first two name components (for reports and key checks)."""
    groups: Dict[str, int] = {}
    for k in state_dict:
        if k.startswith('head.'):
            g = '.'.join(k.split('.')[:2])
            groups[g] = groups.get(g, 0) + 1
    return groups


if __name__ == '__main__':
    torch.set_num_threads(1)
    for robust in (False, True):
        model, sd = reference_state_dict(seed=0, robust=robust, **TINY_SIZES)
        g = torch.Generator().manual_seed(1)
        frames = torch.randn(2, 3, 64, 64, generator=g)
        log_mel = torch.randn(2, 96, 64, generator=g)
        with torch.no_grad():
            model(frames, log_mel)  # warm-up
            t0 = time.perf_counter()
            out = model(frames, log_mel)
            dt = time.perf_counter() - t0
        n_params = sum(p.numel() for p in model.parameters())
        print(f'robust={robust}: {len(sd)} tensors, {n_params} params, forward {dt * 1000:.0f} ms')
        for k, v in out.items():
            print(f'  {k}: {tuple(v.shape)} mean {v.mean():.4f} std {v.std():.4f}')

    with torch.device('meta'):
        full = ReferenceAVSegFormer(robust=True)
    full_sd = full.state_dict()
    prefixes = {}
    for k, v in full_sd.items():
        top = k.split('.')[0]
        prefixes.setdefault(top, [0, 0])
        prefixes[top][0] += 1
        prefixes[top][1] += v.numel()
    print('full size (robust):', len(full_sd), 'tensors')
    for top, (count, numel) in prefixes.items():
        print(f'  {top}: {count} tensors, {numel / 1e6:.2f}M params')
    print('  head groups:', head_key_groups(full_sd))
