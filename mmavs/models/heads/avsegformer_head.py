# Copyright (c) mmavs contributors. All rights reserved.
"""AVSegFormer's decode head (Gao et al., AAAI 2024), as an audio-visual MMSeg decode head.

The head receives the four visual stages (strides 4, 8, 16, 32) and the projected audio
embedding of each frame, and fuses them itself (:class:`BaseAVDecodeHead`)::

    stages [N, C_i, H/s_i, W/s_i] -> conv1x1 + GN -> [N, D, H/s_i, W/s_i]            (in_proj)
    strides 8/16/32 + sine positions + level embeddings
        -> deformable encoder (6 layers)                    -> memory [N, L, D]
    audio [N, D] -> query generator (6 layers, 300 queries) + learnable queries
        -> decoder (6 layers, dense cross-attention to memory) -> queries [N, Q, D]
    stride-4 stage + memory at stride 8 -> mask feature [N, D, H/4, W/4]
        -> CrossModalMixer (audio gates the channels)        -> mask feature
    einsum(queries, mask feature) [N, Q, H/4, W/4] -> query-axis MLP -> [N, D, H/4, W/4]
        + mask feature -> predictor (conv, x4 bilinear, conv, conv) -> logits [N, 1, H, W]

The encoder uses mmcv's ``MultiScaleDeformableAttention`` (its CUDA kernel on a GPU, its pure
PyTorch path on a CPU). Parameter names follow AVSegFormer's checkpoints, so that
``tools/model_converters/avsegformer2mmavs.py`` only renames prefixes. In training with
``loss_mix`` set, :meth:`AVSegFormerHead.forward` also returns the mask feature, whose channel
mean is the "mix" map AVSegFormer supervises beside the mask.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.ops import MultiScaleDeformableAttention
from mmdet.models.layers import SinePositionalEncoding
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor, nn

from .base_av_head import BaseAVDecodeHead

HeadOutputs = Union[Tensor, Tuple[Tensor, Tensor]]


class AudioQueryLayer(nn.Module):
    """Post-norm self-attention over the queries, cross-attention to the audio token, FFN."""

    def __init__(self, embed_dims: int, num_heads: int, ffn_channels: int) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(embed_dims, num_heads, bias=False, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(embed_dims, num_heads, bias=False, batch_first=True)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, ffn_channels), nn.GELU(), nn.Linear(ffn_channels, embed_dims))
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.norm3 = nn.LayerNorm(embed_dims)

    def forward(self, queries: Tensor, audio: Tensor) -> Tensor:
        """``queries [N, Q, D]``, ``audio [N, 1, D]`` -> ``[N, Q, D]``."""
        queries = self.norm1(queries + self.self_attn(queries, queries, queries)[0])
        queries = self.norm2(queries + self.cross_attn(queries, audio, audio)[0])
        return self.norm3(queries + self.ffn(queries))


class AudioQueryGenerator(nn.Module):
    """Learnable queries that attend to the frame's audio token (AVSegFormer's
    ``AttentionGenerator``): ``[N, D]`` audio -> ``[N, Q, D]`` audio-conditioned queries."""

    def __init__(self, num_queries: int, embed_dims: int, num_heads: int, num_layers: int,
                 ffn_channels: int) -> None:
        super().__init__()
        self.query = nn.Embedding(num_queries, embed_dims)
        self.layers = nn.ModuleList(
            AudioQueryLayer(embed_dims, num_heads, ffn_channels) for _ in range(num_layers))

    def forward(self, audio_token: Tensor) -> Tensor:
        """``audio_token [N, 1, D]`` -> ``[N, Q, D]``."""
        queries = self.query.weight[None].expand(audio_token.size(0), -1, -1)
        for layer in self.layers:
            queries = layer(queries, audio_token)
        return queries


class DeformableEncoderLayer(nn.Module):
    """Post-norm multi-scale deformable self-attention (mmcv) and a GELU FFN."""

    def __init__(self, embed_dims: int, num_heads: int, num_levels: int, num_points: int,
                 ffn_channels: int, dropout: float) -> None:
        super().__init__()
        # mmcv's module adds the residual and its own dropout: norm1(src + drop(attn(src)))
        self.self_attn = MultiScaleDeformableAttention(
            embed_dims=embed_dims,
            num_heads=num_heads,
            num_levels=num_levels,
            num_points=num_points,
            dropout=dropout,
            batch_first=True)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.linear1 = nn.Linear(embed_dims, ffn_channels)
        self.linear2 = nn.Linear(ffn_channels, embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.ffn_dropout = nn.Dropout(dropout)
        self.out_dropout = nn.Dropout(dropout)

    def forward(self, src: Tensor, pos: Tensor, reference_points: Tensor, spatial_shapes: Tensor,
                level_start_index: Tensor) -> Tensor:
        """``src``, ``pos`` ``[N, L, D]``, ``reference_points [N, L, levels, 2]`` -> ``[N, L, D]``.
        """
        src = self.norm1(
            self.self_attn(
                query=src,
                value=src,
                query_pos=pos,
                reference_points=reference_points,
                spatial_shapes=spatial_shapes,
                level_start_index=level_start_index))
        ffn = self.linear2(self.ffn_dropout(F.gelu(self.linear1(src))))
        return self.norm2(src + self.out_dropout(ffn))


class QueryDecoderLayer(nn.Module):
    """Post-norm self-attention over the queries, dense cross-attention to the encoder memory (no
    positional embedding), GELU FFN."""

    def __init__(self, embed_dims: int, num_heads: int, ffn_channels: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.norm3 = nn.LayerNorm(embed_dims)
        self.linear1 = nn.Linear(embed_dims, ffn_channels)
        self.linear2 = nn.Linear(ffn_channels, embed_dims)
        self.dropouts = nn.ModuleList(nn.Dropout(dropout) for _ in range(4))

    def forward(self, queries: Tensor, memory: Tensor) -> Tensor:
        """``queries [N, Q, D]``, ``memory [N, L, D]`` -> ``[N, Q, D]``."""
        drop1, drop2, drop3, drop4 = self.dropouts
        queries = self.norm1(queries + drop1(self.self_attn(queries, queries, queries)[0]))
        queries = self.norm2(queries + drop2(self.cross_attn(queries, memory, memory)[0]))
        ffn = self.linear2(drop3(F.gelu(self.linear1(queries))))
        return self.norm3(queries + drop4(ffn))


class _LayerStack(nn.Module):
    """A ``layers`` ModuleList (the ``transformer.encoder`` / ``.decoder`` of the checkpoints)."""

    def __init__(self, layers: List[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class CrossModalMixer(nn.Module):
    """The audio gates the mask feature's channels (AVSegFormer's ``CrossModalMixer``).

    The audio token attends over every pixel of the mask feature; the attended value, projected
    and squashed by a sigmoid, scales each channel: ``out = mask_feature * sigmoid(g)[..., None,
    None]`` (no residual).
    """

    def __init__(self, embed_dims: int, num_heads: int) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'CrossModalMixer: {embed_dims} channels do not split into '
                             f'{num_heads} heads')
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dims, embed_dims, bias=False)
        self.kv_proj = nn.Linear(embed_dims, 2 * embed_dims, bias=False)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, mask_feature: Tensor, audio_token: Tensor) -> Tensor:
        """``mask_feature [N, D, h, w]``, ``audio_token [N, 1, D]`` -> ``[N, D, h, w]``."""
        N, D, h, w = mask_feature.shape
        heads, head_dims = self.num_heads, D // self.num_heads
        pixels = mask_feature.flatten(2).transpose(1, 2)  # [N, hw, D]
        q = self.q_proj(audio_token).view(N, 1, heads, head_dims).transpose(1, 2)  # [N, h, 1, d]
        k, v = self.kv_proj(pixels).view(N, h * w, 2, heads, head_dims).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * head_dims**-0.5).softmax(dim=-1)  # [N, h, 1, hw]
        gate = self.proj((attn @ v).transpose(1, 2).reshape(N, D)).sigmoid()  # [N, D]
        return mask_feature * gate[:, :, None, None]


class QueryMaskMLP(nn.Module):
    """1x1 convolutions over the query axis of the query-pixel map, ReLU between them."""

    def __init__(self, channels: Sequence[int]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Conv2d(c_in, c_out, kernel_size=1) for c_in, c_out in zip(channels, channels[1:]))

    def forward(self, x: Tensor) -> Tensor:
        """``[N, Q, h, w]`` -> ``[N, D, h, w]``."""
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class _Upsample(nn.Module):
    """Bilinear upsampling by a fixed factor (``align_corners=False``)."""

    def __init__(self, scale_factor: int) -> None:
        super().__init__()
        self.scale_factor = scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(
            x, scale_factor=self.scale_factor, mode='bilinear', align_corners=False)


@MODELS.register_module()
class AVSegFormerHead(BaseAVDecodeHead):
    """AVSegFormer's AVSegHead: deformable encoder, audio queries, decoder, mixer, predictor.

    Input ``(visual feats, audio)``: four stages ``[N, C_i, H/s_i, W/s_i]`` (strides 4, 8, 16,
    32) and the projected audio embedding ``[N, D]`` (``AVSegmentor(audio_neck=AudioProjection)``).
    Output: single-channel mask logits ``[N, 1, H, W]`` at the input resolution (and, in
    training with ``loss_mix``, the mask feature ``[N, D, H/4, W/4]``).

    Args:
        in_channels (Sequence[int]): Channels of the four stages (PVT-v2-b5: 64, 128, 320, 512;
            ResNet-50: 256, 512, 1024, 2048).
        channels (int): Transformer width ``D``. Defaults to 256.
        num_queries (int): Learnable / audio queries. Defaults to 300.
        num_heads (int): Attention heads everywhere. Defaults to 8.
        num_encoder_layers (int): Deformable encoder layers. Defaults to 6.
        num_decoder_layers (int): Decoder layers. Defaults to 6.
        num_generator_layers (int): Query generator layers. Defaults to 6.
        ffn_channels (int): FFN width of the encoder and the decoder. Defaults to 2048.
        generator_ffn_channels (int): FFN width of the query generator. Defaults to 1024.
        query_mlp_channels (int): Hidden width of the query-axis MLP. Defaults to 2048.
        num_points (int): Deformable sampling points per head and level. Defaults to 4.
        encoder_levels (Sequence[int]): Stages that enter the encoder. Defaults to (1, 2, 3).
        num_groups (int): GroupNorm groups. Defaults to 32.
        predictor_channels (Sequence[int]): Widths of the predictor's two 3x3 convs. Defaults to
            (128, 32).
        upsample_factor (int): The predictor's bilinear upsampling (stride of the mask feature).
            Defaults to 4.
        dropout (float): Transformer dropout. Defaults to 0.1.
        loss_mix (dict | list[dict], optional): Losses of the mix map (the channel mean of the
            mask feature, as logits, resized to the masks), e.g. a weighted mask loss. None
            (default) trains the mask only.
        **kwargs: :class:`mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments
            (``num_classes=2, out_channels=1, threshold``, ``loss_decode``, ``align_corners``...).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 320, 512),
                 channels: int = 256,
                 num_queries: int = 300,
                 num_heads: int = 8,
                 num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6,
                 num_generator_layers: int = 6,
                 ffn_channels: int = 2048,
                 generator_ffn_channels: int = 1024,
                 query_mlp_channels: int = 2048,
                 num_points: int = 4,
                 encoder_levels: Sequence[int] = (1, 2, 3),
                 num_groups: int = 32,
                 predictor_channels: Sequence[int] = (128, 32),
                 upsample_factor: int = 4,
                 dropout: float = 0.1,
                 loss_mix: Optional[Union[ConfigType, List[ConfigType]]] = None,
                 **kwargs) -> None:
        in_channels = list(in_channels)
        kwargs.setdefault('in_index', list(range(len(in_channels))))
        kwargs.setdefault('input_transform', 'multiple_select')
        kwargs.setdefault('init_cfg', None)
        super().__init__(in_channels=in_channels, channels=channels, **kwargs)
        del self.conv_seg  # the predictor ends the head
        if len(in_channels) != 4:
            raise ValueError(f'AVSegFormerHead: expected four visual stages, found '
                             f'{len(in_channels)} in_channels')
        self.encoder_levels = tuple(encoder_levels)
        self.upsample_factor = upsample_factor
        self.level_embed = nn.Parameter(torch.zeros(len(self.encoder_levels), channels))
        self.learnable_query = nn.Embedding(num_queries, channels)
        self.query_generator = AudioQueryGenerator(num_queries, channels, num_heads,
                                                   num_generator_layers, generator_ffn_channels)
        self.transformer = nn.Module()
        self.transformer.encoder = _LayerStack([
            DeformableEncoderLayer(channels, num_heads, len(self.encoder_levels), num_points,
                                   ffn_channels, dropout) for _ in range(num_encoder_layers)
        ])
        self.transformer.decoder = _LayerStack([
            QueryDecoderLayer(channels, num_heads, ffn_channels, dropout)
            for _ in range(num_decoder_layers)
        ])
        self.positional_encoding = SinePositionalEncoding(num_feats=channels // 2)
        self.in_proj = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, channels, kernel_size=1), nn.GroupNorm(num_groups, channels))
            for c in in_channels)
        self.mlp = QueryMaskMLP([num_queries, query_mlp_channels, query_mlp_channels, channels])
        self.fusion_block = CrossModalMixer(channels, num_heads)
        self.lateral_conv = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=1), nn.GroupNorm(num_groups, channels))
        self.out_conv = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
            nn.GroupNorm(num_groups, channels), nn.ReLU(inplace=True))
        wide, narrow = predictor_channels
        self.fc = nn.Sequential(
            nn.Conv2d(channels, wide, kernel_size=3, padding=1), _Upsample(upsample_factor),
            nn.Conv2d(wide, narrow, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(narrow, self.out_channels, kernel_size=1, bias=False))
        if loss_mix is None:
            self.loss_mix = None
        else:
            cfgs = loss_mix if isinstance(loss_mix, (list, tuple)) else [loss_mix]
            self.loss_mix = nn.ModuleList(MODELS.build(cfg) for cfg in cfgs)

    def init_weights(self) -> None:
        """AVSegFormer's initialisation: Xavier-uniform for every weight matrix and kernel, the
        deformable attentions' own scheme (offsets on a ring of directions), normal level
        embeddings; biases keep PyTorch's defaults. An ``init_cfg`` (e.g. ``Pretrained``) is
        applied instead when set."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        for param in self.parameters():
            if param.dim() > 1:
                nn.init.xavier_uniform_(param)
        for module in self.modules():
            if isinstance(module, MultiScaleDeformableAttention):
                module.init_weights()
        nn.init.normal_(self.level_embed)

    @staticmethod
    def reference_points(spatial_shapes: Tensor, batch_size: int) -> Tensor:
        """Pixel centres of every level in ``[0, 1]``, ``(x, y)``, for every level:
        ``[N, L, levels, 2]`` (no padding: every valid ratio is 1)."""
        points = []
        for h, w in spatial_shapes.tolist():
            ys, xs = torch.meshgrid(
                (torch.arange(h, dtype=torch.float32, device=spatial_shapes.device) + 0.5) / h,
                (torch.arange(w, dtype=torch.float32, device=spatial_shapes.device) + 0.5) / w,
                indexing='ij')
            points.append(torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1))
        points = torch.cat(points, dim=0)  # [L, 2]
        return points[None, :, None].expand(batch_size, -1, len(spatial_shapes), -1)

    def forward(self, inputs) -> HeadOutputs:
        """Mask logits ``[N, 1, H, W]`` (with the mask feature ``[N, D, H/4, W/4]`` in training
        with ``loss_mix``) from ``(visual feats, audio [N, D])``."""
        feats, audio = self.split_inputs(inputs)
        feats = self._transform_inputs(feats)
        N = audio.size(0)
        audio_token = audio[:, None]  # [N, 1, D]
        stride4 = self.in_proj[0](feats[0])
        srcs, poss, shapes = [], [], []
        for level, stage in enumerate(self.encoder_levels):
            src = self.in_proj[stage](feats[stage])  # [N, D, h, w]
            _, _, h, w = src.shape
            no_padding = src.new_zeros((N, h, w), dtype=torch.bool)
            pos = self.positional_encoding(no_padding)  # [N, D, h, w]
            srcs.append(src.flatten(2).transpose(1, 2))
            poss.append(pos.flatten(2).transpose(1, 2) + self.level_embed[level])
            shapes.append((h, w))
        spatial_shapes = torch.tensor(shapes, dtype=torch.long, device=audio.device)
        sizes = spatial_shapes.prod(dim=1)
        level_start_index = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
        memory, pos = torch.cat(srcs, dim=1), torch.cat(poss, dim=1)
        points = self.reference_points(spatial_shapes, N)
        for layer in self.transformer.encoder.layers:
            memory = layer(memory, pos, points, spatial_shapes, level_start_index)
        queries = self.query_generator(audio_token) + self.learnable_query.weight[None]
        for layer in self.transformer.decoder.layers:
            queries = layer(queries, memory)
        h8, w8 = shapes[0]
        stride8 = memory[:, :h8 * w8].transpose(1, 2).reshape(N, -1, h8, w8)
        mask_feature = self.lateral_conv(stride4) + F.interpolate(
            stride8, size=stride4.shape[-2:], mode='bilinear', align_corners=False)
        mask_feature = self.fusion_block(self.out_conv(mask_feature), audio_token)
        query_maps = torch.einsum('nqc,nchw->nqhw', queries, mask_feature)
        logits = self.fc(mask_feature + self.mlp(query_maps))
        if self.training and self.loss_mix is not None:
            return logits, mask_feature
        return logits

    def loss_by_feat(self, seg_logits: HeadOutputs, batch_data_samples: SampleList) -> dict:
        """The mask losses (``loss_decode``) and, with a mask feature, the mix losses
        (``loss_mix``, keys ``<loss name>_mix``) against the same masks."""
        mask_feature = None
        if isinstance(seg_logits, tuple):
            seg_logits, mask_feature = seg_logits
        losses = super().loss_by_feat(seg_logits, batch_data_samples)
        if mask_feature is not None:
            label = self._stack_batch_gt(batch_data_samples)  # [N, 1, H, W]
            mix = resize(
                mask_feature.mean(dim=1, keepdim=True),
                size=label.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
            for loss in self.loss_mix:
                losses[f'{loss.loss_name}_mix'] = loss(
                    mix, label.squeeze(1), ignore_index=self.ignore_index)
        return losses

    def predict_by_feat(self, seg_logits: HeadOutputs, batch_img_metas: List[dict]) -> Tensor:
        """Mask logits resized to the (padded) input size."""
        if isinstance(seg_logits, tuple):
            seg_logits = seg_logits[0]
        return super().predict_by_feat(seg_logits, batch_img_metas)
