# Copyright (c) mmavs contributors. All rights reserved.
"""Classifier-guided audio-visual similarity head (AVSBench-Robust, Li et al.).

The audio embedding ``[B, C_a]`` and the globally average-pooled last visual stage ``[B, C_v]``
are projected (Linear) to a common dimension; their cosine similarity becomes a logit
``s * cos + b`` trained with binary cross-entropy against ``is_sounding`` (1 = the frame's own
audio, 0 = a negative). The probability ``sigmoid(s * cos + b)`` is what the model reports as
``pred_similarity`` and what inference gating thresholds.

Difference from the authors' release: they use the raw cosine as the logit
(``s = 1, b = 0``, no visual projection). A cosine is bounded in [-1, 1], so their probability
is confined to ``[sigmoid(-1), sigmoid(1)] = [0.269, 0.731]`` and the BCE can never fall below
``-log(0.731) = 0.313`` for either class: the loss keeps pulling on every sample and the
probability is never confident. Here ``s`` is learnable (log-parametrised, initialised at 10,
clamped to ``max_scale``) and so is ``b`` (initialised at 0, i.e. probability 0.5 for an
untrained head: a neutral gate rather than a prior tied to the 90/10 training ratio).
``learnable=False, scale=1, bias=0, project_visual=False`` reproduces the authors' head.

**In-batch negative pairs** (``in_batch_negatives=True``, an addition to the authors' recipe):
the BCE also scores the pairs (frame ``i``, audio of positive ``j``) of the batch whose categories
differ (:func:`in_batch_negative_pairs`). The balanced stream gives about ``0.4 B`` negatives per
batch of ``B``; the pairs add up to ``B^2`` more at the cost of one ``[B, B]`` matrix product
(the encoders run once). Their mean BCE is added with weight ``in_batch_weight``. What a pair
needs from the data (``is_sounding``, ``category``, ``video_id``) travels in each sample's
metainfo.

**Mask pooling** (``pooling='mask'``, an addition to the authors' recipe): the visual embedding
pools each selected stage under the decode head's predicted mask (its sigmoid, detached),
``sum(p * f) / sum(p)``, instead of over the whole frame: the score compares the sound with the
object the decoder segments, not with the average of that object, the silent objects beside it
and the background. On a negative the decoder's probabilities are all small but the weights are
normalised, so the pool still follows where the decoder is least sure the frame is empty.
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.constants import MULTI_SOURCE_CATEGORY


def scaled_cosine_logit(audio_emb: Tensor, visual_emb: Tensor, scale: Tensor,
                        bias: Tensor) -> Tensor:
    """``scale * cos(audio_emb, visual_emb) + bias`` per sample.

    Args:
        audio_emb (Tensor): ``[B, D]``.
        visual_emb (Tensor): ``[B, D]``.
        scale (Tensor): Scalar multiplier.
        bias (Tensor): Scalar offset.

    Returns:
        Tensor: Logits ``[B]``.
    """
    cos = F.cosine_similarity(audio_emb, visual_emb, dim=1, eps=1e-8)
    return scale * cos + bias


def mask_pool(feat: Tensor, mask_probs: Tensor, eps: float = 1e-6) -> Tensor:
    """Average of a feature map weighted by a mask: ``sum(p * f) / (sum(p) + eps)``.

    Args:
        feat (Tensor): ``[B, C, H, W]``.
        mask_probs (Tensor): ``[B, 1, h, w]`` in [0, 1], area-resampled to ``H x W``.
        eps (float): Keeps the division finite when a mask is all zero. Defaults to 1e-6.

    Returns:
        Tensor: ``[B, C]``.
    """
    if mask_probs.dim() != 4 or mask_probs.size(1) != 1 or mask_probs.size(0) != feat.size(0):
        raise ValueError(f'mask_pool: expected mask probabilities [B={feat.size(0)}, 1, h, w], '
                         f'found {tuple(mask_probs.shape)}')
    weights = F.adaptive_avg_pool2d(mask_probs, feat.shape[-2:])
    return (feat * weights).sum(dim=(2, 3)) / (weights.sum(dim=(2, 3)) + eps)


def sounding_labels(data_samples: Sequence, device=None) -> Tensor:
    """Read ``is_sounding`` (1 positive, 0 negative) from each sample's metainfo.

    Returns:
        Tensor: Float labels ``[B]``.
    """
    labels: List[float] = []
    for sample in data_samples:
        meta = sample.metainfo
        if 'is_sounding' not in meta:
            raise KeyError('the similarity head needs metainfo "is_sounding" (1 for the true '
                           'audio, 0 for a negative); not found in the sample of '
                           f'{meta.get("img_path", "<unknown image>")}')
        value = float(meta['is_sounding'])
        if value not in (0.0, 1.0):
            raise ValueError(f'is_sounding must be 0 or 1, found {meta["is_sounding"]!r} for '
                             f'{meta.get("img_path", "<unknown image>")}')
        labels.append(value)
    return torch.tensor(labels, dtype=torch.float32, device=device)


#: Visual poolings of :class:`SimilarityHead`.
POOLINGS = ('avg', 'mask')


def in_batch_negative_pairs(data_samples: Sequence, device=None) -> Tensor:
    """Pairs of a batch whose audio does not belong to the frame.

    Entry ``(i, j)`` is True when the frame of sample ``i`` heard with the audio of sample ``j``
    is a negative pair: ``j`` is a positive (``is_sounding == 1``: the audio is its own video's
    sound, of its ``category``), the two samples come from different videos, and their
    categories differ (both known, neither MS3's multi-source ``'multi'``). A frame that happens
    to show a silent object of ``j``'s category then gets a wrong label; the stricter signal (a
    guitar frame also rejects a piano) is what the pairs are for.

    Args:
        data_samples (Sequence[SegDataSample]): With metainfo ``is_sounding``, ``category`` and
            ``video_id`` (samples without ``category`` form no pair).

    Returns:
        Tensor: Bool ``[B, B]`` (rows: frames, columns: audios); the diagonal is False.
    """
    metas = [sample.metainfo for sample in data_samples]
    num = len(metas)
    pairs = torch.zeros((num, num), dtype=torch.bool)
    for j, donor in enumerate(metas):
        if float(donor.get('is_sounding', 0)) != 1.0 or donor.get('category') is None:
            continue
        for i, target in enumerate(metas):
            if i == j or target.get('category') is None:
                continue
            same_video = (
                target.get('video_id') is not None
                and target.get('video_id') == donor.get('video_id'))
            categories = (target['category'], donor['category'])
            pairs[i, j] = (not same_video and categories[0] != categories[1]
                           and MULTI_SOURCE_CATEGORY not in categories)
    return pairs.to(device) if device is not None else pairs


@MODELS.register_module()
class SimilarityHead(BaseModule):
    """Project audio and pooled visual features, score their cosine, train it with BCE.

    Args:
        visual_channels (int): Channels ``C_v`` of the visual stage(s) ``in_index`` (their sum
            when several stages are pooled).
        audio_channels (int): Channels ``C_a`` of the audio embedding. Defaults to 128.
        embed_dims (int): Common dimension ``D``. Defaults to 256. Must equal ``C_v`` when
            ``project_visual=False``.
        in_index (int | Sequence[int]): Visual stage(s) (of the backbone outputs, before
            fusion); with several, their pooled features are concatenated. Defaults to -1.
        project_visual (bool): Linear projection of the pooled visual feature. The authors
            project only the audio. Defaults to True.
        scale (float): Initial (or fixed) cosine scale ``s > 0``. Defaults to 10.
        bias (float): Initial (or fixed) logit bias ``b``. Defaults to 0.
        learnable (bool): Learn ``s`` and ``b``; fixed ones are not saved in checkpoints.
            Defaults to True.
        max_scale (float): Upper clamp of ``s`` (keeps the logit from exploding). Defaults to 100.
        loss_weight (float): Weight of the BCE. Defaults to 1.0.
        loss_name (str): Key of the loss. Defaults to ``'loss_sim'``.
        pooling (str): ``'avg'`` (the authors'): the globally average-pooled visual stage.
            ``'mask'``: :func:`mask_pool` under the decode head's mask (the segmentor passes its
            ``mask_logits``). Defaults to ``'avg'``.
        in_batch_negatives (bool): Also train on the negative pairs formed inside the batch
            (:func:`in_batch_negative_pairs`). Defaults to False (the authors' recipe).
        in_batch_weight (float): Weight of their mean BCE. Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 visual_channels: int,
                 audio_channels: int = 128,
                 embed_dims: int = 256,
                 in_index: Union[int, Sequence[int]] = -1,
                 project_visual: bool = True,
                 scale: float = 10.0,
                 bias: float = 0.0,
                 learnable: bool = True,
                 max_scale: float = 100.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_sim',
                 pooling: str = 'avg',
                 in_batch_negatives: bool = False,
                 in_batch_weight: float = 1.0,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pooling not in POOLINGS:
            raise ValueError(f'SimilarityHead: pooling must be one of {POOLINGS}, found '
                             f'{pooling!r}')
        if scale <= 0:
            raise ValueError(f'SimilarityHead: scale must be > 0, found {scale}')
        if not project_visual and embed_dims != visual_channels:
            raise ValueError('SimilarityHead: without a visual projection embed_dims must equal '
                             f'visual_channels, found {embed_dims} != {visual_channels}')
        if not loss_name.startswith('loss_'):
            raise ValueError(f'loss_name must start with "loss_", found {loss_name!r}')
        self.visual_channels = visual_channels
        self.audio_channels = audio_channels
        self.in_index = in_index
        self.max_scale = max_scale
        self.loss_weight = loss_weight
        self.loss_name = loss_name
        self.pooling = pooling
        self.in_batch_negatives = in_batch_negatives
        self.in_batch_weight = in_batch_weight
        self.audio_proj = nn.Linear(audio_channels, embed_dims)
        self.visual_proj = (
            nn.Linear(visual_channels, embed_dims) if project_visual else nn.Identity())
        log_scale = torch.tensor(math.log(scale))
        bias_t = torch.tensor(float(bias))
        if learnable:
            self.log_scale = nn.Parameter(log_scale)
            self.bias = nn.Parameter(bias_t)
        else:  # fixed by the config, not weights: not saved in checkpoints
            self.register_buffer('log_scale', log_scale, persistent=False)
            self.register_buffer('bias', bias_t, persistent=False)

    @property
    def scale(self) -> Tensor:
        """Tensor: The current cosine scale ``s`` (scalar)."""
        return self.log_scale.exp().clamp(max=self.max_scale)

    @property
    def needs_mask(self) -> bool:
        """bool: Whether the head pools under the decode head's ``mask_logits``."""
        return self.pooling == 'mask'

    def _stages(self, visual_feats: Union[Tensor, Sequence[Tensor]]) -> List[Tensor]:
        """The visual stage(s) this head reads (``in_index``; a tensor given is the stage)."""
        if isinstance(visual_feats, Tensor):
            return [visual_feats]
        if isinstance(self.in_index, int):
            return [visual_feats[self.in_index]]
        return [visual_feats[i] for i in self.in_index]

    def pool_visual(self,
                    visual_feats: Union[Tensor, Sequence[Tensor]],
                    mask_logits: Optional[Tensor] = None) -> Tensor:
        """Pooled visual embedding: global average (``'avg'``) or :func:`mask_pool` under
        ``sigmoid(mask_logits)`` (``'mask'``) of each selected stage, concatenated.

        Args:
            visual_feats (Tensor | Sequence[Tensor]): Backbone outputs, each ``[B, C, H, W]``
                (or one tensor ``[B, C, H, W]`` / ``[B, C]``).
            mask_logits (Tensor, optional): The decode head's logits ``[B, 1, h, w]``; needed by
                ``pooling='mask'`` (detached here: the similarity loss does not train the
                decoder), ignored by ``'avg'``.

        Returns:
            Tensor: ``[B, C_v]``.
        """
        if self.needs_mask and mask_logits is None:
            raise ValueError("SimilarityHead: pooling='mask' needs the decode head's "
                             'mask_logits [B, 1, h, w]')
        probs = mask_logits.detach().sigmoid() if self.needs_mask else None
        pooled = []
        for x in self._stages(visual_feats):
            if x.dim() == 4:
                x = mask_pool(x, probs) if probs is not None else x.mean(dim=(2, 3))
            pooled.append(x)
        x = torch.cat(pooled, dim=1) if len(pooled) > 1 else pooled[0]
        if x.dim() != 2 or x.size(1) != self.visual_channels:
            raise ValueError(f'SimilarityHead: expected visual features with '
                             f'{self.visual_channels} channels in all at in_index='
                             f'{self.in_index}, found {tuple(x.shape)} after pooling; check '
                             'visual_channels/in_index')
        return x

    def _projected(self,
                   visual_feats: Union[Tensor, Sequence[Tensor]],
                   audio_emb: Tensor,
                   mask_logits: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Projected audio ``[B, D]`` and visual ``[B, D]`` embeddings."""
        if audio_emb.dim() != 2 or audio_emb.size(1) != self.audio_channels:
            raise ValueError(f'SimilarityHead: expected an audio embedding '
                             f'[B, {self.audio_channels}], found {tuple(audio_emb.shape)}')
        return (self.audio_proj(audio_emb),
                self.visual_proj(self.pool_visual(visual_feats, mask_logits)))

    def forward(self,
                visual_feats: Union[Tensor, Sequence[Tensor]],
                audio_emb: Tensor,
                mask_logits: Optional[Tensor] = None) -> Tensor:
        """Similarity logits of the batch's own pairs (frame ``i`` with audio ``i``).

        Args:
            visual_feats (Tensor | Sequence[Tensor]): Backbone outputs (before fusion).
            audio_emb (Tensor): Audio embedding ``[B, C_a]``.
            mask_logits (Tensor, optional): Decode head logits ``[B, 1, h, w]``
                (``pooling='mask'``).

        Returns:
            Tensor: Logits ``[B]``.
        """
        audio, visual = self._projected(visual_feats, audio_emb, mask_logits)
        return scaled_cosine_logit(audio, visual, self.scale, self.bias)

    def pairwise(self,
                 visual_feats: Union[Tensor, Sequence[Tensor]],
                 audio_emb: Tensor,
                 mask_logits: Optional[Tensor] = None) -> Tensor:
        """Similarity logits of every (frame, audio) pair of the batch.

        Returns:
            Tensor: ``[B_v, B_a]``; entry ``(i, j)`` scores frame ``i`` with audio ``j`` (the
            diagonal equals :meth:`forward` up to the cosine's epsilon).
        """
        audio, visual = self._projected(visual_feats, audio_emb, mask_logits)
        audio = F.normalize(audio, dim=-1, eps=1e-8)
        visual = F.normalize(visual, dim=-1, eps=1e-8)
        return self.scale * (visual @ audio.t()) + self.bias

    def loss(self,
             visual_feats: Union[Tensor, Sequence[Tensor]],
             audio_emb: Tensor,
             data_samples: Sequence,
             mask_logits: Optional[Tensor] = None) -> dict:
        """BCE of the similarity logit against ``is_sounding`` (+ the in-batch negatives).

        Args:
            visual_feats (Tensor | Sequence[Tensor]): Backbone outputs of the ``B`` frames.
            audio_emb (Tensor): Audio embedding ``[B, C_a]``.
            data_samples (Sequence[SegDataSample]): With metainfo ``is_sounding`` (and
                ``category``, ``video_id`` for the in-batch pairs).
            mask_logits (Tensor, optional): Decode head logits ``[B, 1, h, w]`` of the frames
                (``pooling='mask'``).

        Returns:
            dict[str, Tensor]: ``{loss_name: weighted BCE, 'acc_sim': accuracy in %,
            'sim_scale': current s}``; with ``in_batch_negatives`` also
            ``<loss_name>_in_batch`` (weighted mean BCE of the in-batch pairs, 0 when the batch
            has none) and ``acc_sim_in_batch`` (their accuracy in %, 100 when none).
        """
        labels = sounding_labels(data_samples, device=audio_emb.device)
        pair_logits = None
        if self.in_batch_negatives:
            pair_logits = self.pairwise(visual_feats, audio_emb, mask_logits)  # [B, B]
            logits = pair_logits.diagonal()
        else:
            logits = self(visual_feats, audio_emb, mask_logits)
        if logits.numel() != labels.numel():
            raise ValueError(f'SimilarityHead: {logits.numel()} predictions for '
                             f'{labels.numel()} data samples')
        bce = F.binary_cross_entropy_with_logits(logits, labels)
        with torch.no_grad():
            acc = ((logits > 0).float() == labels).float().mean() * 100.0
        losses = {
            self.loss_name: self.loss_weight * bce,
            'acc_sim': acc,
            'sim_scale': self.scale.detach(),
        }
        if pair_logits is not None:
            pairs = in_batch_negative_pairs(data_samples, device=pair_logits.device)
            negatives = pair_logits[pairs]
            if negatives.numel():
                pair_bce = F.binary_cross_entropy_with_logits(negatives,
                                                              torch.zeros_like(negatives))
                pair_acc = (negatives <= 0).float().mean().detach() * 100.0
            else:  # keeps every parameter in the graph (DDP) with a zero loss
                pair_bce = pair_logits.sum() * 0.0
                pair_acc = pair_logits.new_tensor(100.0)
            losses[f'{self.loss_name}_in_batch'] = (
                self.loss_weight * self.in_batch_weight * pair_bce)
            losses['acc_sim_in_batch'] = pair_acc
        return losses

    def predict(self,
                visual_feats: Union[Tensor, Sequence[Tensor]],
                audio_emb: Tensor,
                mask_logits: Optional[Tensor] = None) -> Tensor:
        """Similarity probabilities ``sigmoid(s * cos + b)``, ``[B]`` in [0, 1]."""
        return self(visual_feats, audio_emb, mask_logits).sigmoid()
