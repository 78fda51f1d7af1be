# Copyright (c) mmavs contributors. All rights reserved.
"""The audio-visual segmentor: MMSeg's encoder-decoder with a second modality in ``inputs``.

.. code:: text

    inputs = dict(img=[B, 3, H, W], audio=[B, 96, 64](, audio_clip=[B, E, 96, 64]))
    img   -> backbone (MMSeg / MMPretrain) -> visual feats (tuple of [B, C_i, H_i, W_i])
    audio -> audio_backbone (VGGish / AudioCNN) -> audio embedding [B, C_a]
    visual feats -> neck (optional) -> fusion(feats, audio) -> decode head
                 -> mask logits [B, 1, h, w]
    visual feats[-1] (before neck and fusion) + audio embedding (frame or clip level)
                 (+ mask logits, with pooling='mask') -> similarity head -> logit [B]

**Frame- or clip-level audio** (``similarity_audio``, ``fusion_audio``). Each of the similarity
head and the fusion hears either the frame's own second of audio (``'frame'``, the default) or
the *clip-level* embedding (``'clip'``): the mean of the audio backbone's embeddings of every
example of the clip (``inputs['audio_clip']``, from ``LoadAVSAudio(with_clip=True)``), as the
paper describes the similarity's input ("the clip-level audio embedding"). A clip-level
embedding does not depend on whether the frame's second happens to fall into a pause of the sound
(between two barks or hoots), and five seconds of noise or off-screen audio are judged on five
seconds of evidence. Clip-level fusion suits single-source clips (S4: one object sounds all clip
long; TPAVI in AVSBench also attends over the whole clip's audio); MS3's sources change within
a clip.

``loss`` returns the decode (and auxiliary) head losses prefixed ``decode.``/``aux.`` and the
similarity losses prefixed ``sim.``. ``predict`` fills each ``SegDataSample`` with
``seg_logits`` (raw logits ``[1, H, W]``, never gated), ``pred_sem_seg`` (``sigmoid > threshold``,
long ``[1, H, W]``, emptied when gating is on and the similarity probability is below
``gate_thr``) and ``pred_similarity`` (``Tensor[]`` probability). With gating on, the metainfo also
records ``gate_thr`` and ``gated`` (whether the mask was emptied), so reports can show results with
and without gating from the same raw ``seg_logits``.

**Extra frames for the similarity** (training only). When the batch carries
``inputs['img_extra'] [B, 3, H, W]`` (another frame of each sample's clip, from
:class:`~mmavs.datasets.transforms.LoadExtraClipFrame`), the visual backbone also encodes those
frames (one pass over ``2B`` images) and the similarity head scores them with the clip-level audio
embedding and the sample's label; the mask losses see the annotated frames only. This is the
authors' recipe (similarity loss on all five frames of each clip, mask loss on the annotated one)
and needs ``similarity_audio='clip'``: the extra frame's own second of audio is not loaded.

**Mask-pooled similarity** (``similarity_head.pooling='mask'``): the decode head runs first and
the similarity head pools the visual stages under its mask (detached; at inference the logits
``decode_head.predict`` returns, at training those the mask losses see), so the score compares
the sound with the object the model segments.

**Soft gate** (``soft_gate=True``, an option): the mask probability is the decode head's probability
times the similarity probability, ``sigmoid(m) * sigmoid(s)``, both in the mask losses of training
and in ``seg_logits`` at inference (:func:`soft_gate_logits`). The mask losses on negatives can then
be met by the similarity saying "no match" instead of by a decode head that learns to doubt every
object; the decode head answers *which* pixels, the similarity *whether* anything sounds. The hard
gate (``gate_thr``) still applies on top, to the soft-gated ``seg_logits``.
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, OptSampleList, SampleList
from mmseg.utils import add_prefix
from torch import Tensor

from ..losses.functional import binary_pixel_accuracy
from .gating import gate_mask, similarity_gate, soft_gate_logits

AVInputs = Dict[str, Tensor]
#: Audio levels of the fusion and the similarity head (see the module docstring).
AUDIO_LEVELS = ('frame', 'clip')


def sliding_windows(height: int, width: int, crop: Sequence[int],
                    stride: Sequence[int]) -> Iterator[Tuple[int, int, int, int]]:
    """Crop boxes ``(y1, y2, x1, x2)`` covering an image, as MMSeg's slide inference lays them.

    Args:
        height (int): Image height (pixels).
        width (int): Image width (pixels).
        crop (Sequence[int]): ``(h_crop, w_crop)``.
        stride (Sequence[int]): ``(h_stride, w_stride)``.
    """
    h_crop, w_crop = crop
    h_stride, w_stride = stride
    h_grids = max(height - h_crop + h_stride - 1, 0) // h_stride + 1
    w_grids = max(width - w_crop + w_stride - 1, 0) // w_stride + 1
    for h_idx in range(h_grids):
        for w_idx in range(w_grids):
            y2 = min(h_idx * h_stride + h_crop, height)
            x2 = min(w_idx * w_stride + w_crop, width)
            yield max(y2 - h_crop, 0), y2, max(x2 - w_crop, 0), x2


@MODELS.register_module()
class AVSegmentor(EncoderDecoder):
    """Audio-visual segmentor (binary, one sigmoid channel) extending ``EncoderDecoder``.

    Args:
        backbone (dict): Visual backbone, any MMSeg backbone or ``type='mmpretrain.X'``;
            must return a tuple/list of ``[B, C_i, H_i, W_i]`` maps.
        audio_backbone (dict): Audio backbone (``VGGish``, ``AudioCNN``): log-mel
            ``[B, 96, 64]`` -> embedding ``[B, C_a]``.
        fusion (dict): Audio-visual fusion (``TPAVIFusion``, ``ChannelGateFusion``), applied to
            the (neck) features before the decode head.
        decode_head (dict): MMSeg decode head with ``num_classes=2, out_channels=1``.
        similarity_head (dict, optional): ``SimilarityHead``. Defaults to None.
        neck (dict, optional): MMSeg neck between backbone and fusion. Defaults to None.
        auxiliary_head (dict | list[dict], optional): Auxiliary heads (on fused features).
        gate_thr (float, optional): Similarity probability below which ``pred_sem_seg`` is
            emptied at inference. None (default) disables gating. Tools may set
            ``model.gate_thr`` after calibration.
        freeze_audio_backbone (bool): Keep the audio backbone in eval mode without gradients
            (the authors freeze VGGish). Defaults to False (e.g. ``AudioCNN`` trained from scratch).
        soft_gate (bool): Multiply the mask probability by the similarity probability in training
            and inference (see the module docstring). Needs a similarity head. Defaults to False.
        similarity_audio (str): Audio embedding of the similarity head: ``'frame'`` (the
            frame's own example) or ``'clip'`` (mean over ``inputs['audio_clip']``, see the
            module docstring); ignored without a similarity head (a positive-only baseline may
            inherit it). Defaults to ``'frame'``.
        fusion_audio (str): Audio embedding of the fusion, ``'frame'`` or ``'clip'``. Defaults
            to ``'frame'``.
        train_cfg (dict, optional): Training config.
        test_cfg (dict, optional): ``dict(mode='whole')`` (default) or
            ``dict(mode='slide', crop_size=(h, w), stride=(h, w))``.
        data_preprocessor (dict, optional): ``AVSegDataPreProcessor`` config.
        pretrained (str, optional): Visual backbone checkpoint (MMSeg convention).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 audio_backbone: ConfigType,
                 fusion: ConfigType,
                 decode_head: ConfigType,
                 similarity_head: OptConfigType = None,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 gate_thr: Optional[float] = None,
                 freeze_audio_backbone: bool = False,
                 soft_gate: bool = False,
                 similarity_audio: str = 'frame',
                 fusion_audio: str = 'frame',
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None):
        test_cfg = ConfigDict(mode='whole') if test_cfg is None else ConfigDict(test_cfg)
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        if self.out_channels != 1:
            raise ValueError('AVSegmentor: the decode head must have one sigmoid output '
                             '(num_classes=2, out_channels=1, threshold=0.5), found '
                             f'out_channels={self.out_channels} in '
                             f'{type(self.decode_head).__name__}')
        self.audio_backbone = MODELS.build(audio_backbone)
        self.fusion = MODELS.build(fusion)
        self.similarity_head = (MODELS.build(similarity_head)
                                if similarity_head is not None else None)
        if gate_thr is not None and self.similarity_head is None:
            raise ValueError('AVSegmentor: gate_thr needs a similarity_head (gating thresholds '
                             'the similarity probability)')
        if soft_gate and self.similarity_head is None:
            raise ValueError('AVSegmentor: soft_gate needs a similarity_head (it multiplies the '
                             'mask probability by the similarity probability)')
        for name, level in dict(similarity_audio=similarity_audio,
                                fusion_audio=fusion_audio).items():
            if level not in AUDIO_LEVELS:
                raise ValueError(f'AVSegmentor: {name} must be one of {AUDIO_LEVELS}, found '
                                 f'{level!r}')
        self.gate_thr = gate_thr
        self.soft_gate = soft_gate
        self.similarity_audio = similarity_audio if self.similarity_head is not None else None
        self.fusion_audio = fusion_audio
        self.freeze_audio_backbone = freeze_audio_backbone
        if freeze_audio_backbone:
            self.audio_backbone.eval()
            for param in self.audio_backbone.parameters():
                param.requires_grad = False

    @property
    def needs_audio_clip(self) -> bool:
        """bool: Whether the model reads ``inputs['audio_clip']`` (a clip-level fusion or
        similarity)."""
        return 'clip' in (self.fusion_audio, self.similarity_audio)

    @property
    def with_similarity_head(self) -> bool:
        """bool: Whether the segmentor has a similarity head."""
        return self.similarity_head is not None

    @property
    def similarity_needs_mask(self) -> bool:
        """bool: Whether the similarity head pools under the decode head's mask (it then
        receives the mask logits of each frame, computed with the frame's own audio)."""
        return self.with_similarity_head and getattr(self.similarity_head, 'needs_mask', False)

    def train(self, mode: bool = True) -> 'AVSegmentor':
        """Set train/eval mode; a frozen audio backbone always stays in eval mode."""
        super().train(mode)
        if self.freeze_audio_backbone:
            self.audio_backbone.eval()
        return self

    # ------------------------------------------------------------------ features
    @staticmethod
    def unpack_inputs(inputs: AVInputs) -> Tuple[Tensor, Tensor]:
        """Return ``(img [B, 3, H, W], audio [B, ...])`` from the inputs dict."""
        if not isinstance(inputs, dict) or 'img' not in inputs or 'audio' not in inputs:
            found = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise TypeError('AVSegmentor expects inputs=dict(img=Tensor[B, 3, H, W], '
                            f'audio=Tensor[B, 96, 64]) (see docs/design.md), found {found}')
        img, audio = inputs['img'], inputs['audio']
        if img.dim() != 4 or audio.size(0) != img.size(0):
            raise ValueError('AVSegmentor: expected img [B, 3, H, W] and audio [B, 96, 64] with '
                             f'the same B, found img {tuple(img.shape)} and audio '
                             f'{tuple(audio.shape)}')
        return img, audio

    def extract_audio(self, audio: Tensor) -> Tensor:
        """Audio embedding ``[B, C_a]`` from log-mel examples ``[B, 96, 64]``."""
        if self.freeze_audio_backbone:
            with torch.no_grad():
                emb = self.audio_backbone(audio)
        else:
            emb = self.audio_backbone(audio)
        if isinstance(emb, (tuple, list)):
            emb = emb[-1]
        if emb.dim() != 2:
            raise ValueError('AVSegmentor: the audio backbone must return [B, C_a], found '
                             f'{tuple(emb.shape)} from {type(self.audio_backbone).__name__}')
        return emb

    def clip_audio_embedding(self, inputs: AVInputs) -> Tensor:
        """Clip-level audio embedding ``[B, C_a]``: the mean of the audio backbone's embeddings
        of every example of each clip (``inputs['audio_clip'] [B, E, 96, 64]``)."""
        clip = inputs.get('audio_clip')
        if clip is None:
            raise KeyError('AVSegmentor with clip-level audio (similarity_audio or fusion_audio '
                           "= 'clip') needs inputs['audio_clip'] [B, E, 96, 64]: load the audio "
                           "with dict(type='LoadAVSAudio', with_clip=True)")
        batch_size = inputs['img'].size(0)
        if clip.dim() != 4 or clip.size(0) != batch_size:
            raise ValueError(f'AVSegmentor: expected audio_clip [B={batch_size}, E, 96, 64], '
                             f'found {tuple(clip.shape)}')
        emb = self.extract_audio(clip.flatten(0, 1))
        return emb.view(batch_size, clip.size(1), -1).mean(dim=1)

    def audio_embeddings(self, inputs: AVInputs) -> Tuple[Tensor, Tensor]:
        """The audio embeddings ``[B, C_a]`` the fusion and the similarity head use.

        Each is the frame's own example (``'frame'``) or :meth:`clip_audio_embedding`
        (``'clip'``), by ``fusion_audio`` and ``similarity_audio``; each level is computed once.

        Returns:
            tuple[Tensor, Tensor]: ``(fusion embedding, similarity embedding)`` (the latter None
            without a similarity head).
        """
        _, audio = self.unpack_inputs(inputs)
        levels = {self.fusion_audio, self.similarity_audio}
        embs = dict(frame=self.extract_audio(audio) if 'frame' in levels else None,
                    clip=self.clip_audio_embedding(inputs) if 'clip' in levels else None)
        return embs[self.fusion_audio], embs.get(self.similarity_audio)

    def extract_visual(self, img: Tensor) -> Tuple[Tensor, ...]:
        """Backbone outputs (before neck and fusion), a tuple of ``[B, C_i, H_i, W_i]``."""
        feats = self.backbone(img)
        if isinstance(feats, Tensor):
            feats = (feats, )
        return tuple(feats)

    def forward_features(self, inputs: AVInputs
                         ) -> Tuple[Tuple[Tensor, ...], Tensor, Tuple[Tensor, ...]]:
        """Run both encoders and the fusion.

        Returns:
            tuple: ``(visual feats before fusion, the similarity head's audio embedding
            [B, C_a], fused feats)`` (:meth:`audio_embeddings`).
        """
        img, _ = self.unpack_inputs(inputs)
        return self.fuse_audio(self.extract_visual(img), inputs)

    def fuse_audio(self, visual: Tuple[Tensor, ...], inputs: AVInputs
                   ) -> Tuple[Tuple[Tensor, ...], Tensor, Tuple[Tensor, ...]]:
        """Audio embeddings and fusion on given visual features (:meth:`forward_features`).

        Returns:
            tuple: ``(visual, the similarity head's audio embedding [B, C_a], fused feats)``.
        """
        fusion_emb, similarity_emb = self.audio_embeddings(inputs)
        feats = self.neck(visual) if self.with_neck else visual
        fused = self.fusion(feats, fusion_emb)
        return visual, similarity_emb, fused

    def extract_feat(self, inputs: AVInputs) -> Tuple[Tensor, ...]:
        """Fused multi-scale features, the decode head's input."""
        return self.forward_features(inputs)[2]

    # ------------------------------------------------------------------ training
    def _binary_head_loss(self, head: nn.Module, feats: Tuple[Tensor, ...],
                          data_samples: SampleList,
                          similarity_logits: Optional[Tensor] = None,
                          seg_logits: Optional[Tensor] = None) -> dict:
        """Head losses, with ``acc_seg`` recomputed as binary pixel accuracy.

        MMSeg's ``acc_seg`` takes an argmax over the single sigmoid channel (always class 0);
        for heads that keep ``BaseDecodeHead.loss`` it is replaced by the thresholded accuracy,
        for heads with their own ``loss`` the misleading value is dropped. With
        ``similarity_logits`` (``[B]``, the soft gate) the losses see the soft-gated logits.
        ``seg_logits``: the head's output on ``feats`` when the caller already computed it.
        """
        if type(head).loss is not BaseDecodeHead.loss:
            if similarity_logits is not None or seg_logits is not None:
                raise ValueError('AVSegmentor: soft_gate and a similarity head with '
                                 "pooling='mask' share the decode head's logits and need a "
                                 'decode head that keeps BaseDecodeHead.loss; '
                                 f'{type(head).__name__} has its own')
            losses = head.loss(feats, data_samples, self.train_cfg)
            losses.pop('acc_seg', None)
            return losses
        if seg_logits is None:
            seg_logits = head.forward(feats)
        if similarity_logits is not None:
            seg_logits = soft_gate_logits(seg_logits, similarity_logits)
        losses = head.loss_by_feat(seg_logits, data_samples)
        label = torch.stack([s.gt_sem_seg.data for s in data_samples])  # [B, 1, H, W]
        seg_logits = resize(seg_logits, size=label.shape[2:], mode='bilinear',
                            align_corners=head.align_corners)
        losses['acc_seg'] = binary_pixel_accuracy(seg_logits, label[:, 0], head.ignore_index,
                                                  head.threshold)
        return losses

    def _decode_head_forward_train(self, inputs: Tuple[Tensor, ...],
                                   data_samples: SampleList,
                                   similarity_logits: Optional[Tensor] = None,
                                   seg_logits: Optional[Tensor] = None) -> dict:
        """Decode head losses, prefixed ``decode.`` (soft-gated with ``similarity_logits``;
        ``seg_logits``: the head's output when already computed)."""
        return add_prefix(
            self._binary_head_loss(self.decode_head, inputs, data_samples, similarity_logits,
                                   seg_logits), 'decode')

    def _auxiliary_head_forward_train(self, inputs: Tuple[Tensor, ...],
                                      data_samples: SampleList) -> dict:
        """Auxiliary head losses, prefixed ``aux.`` / ``aux_<i>.``."""
        if isinstance(self.auxiliary_head, nn.ModuleList):
            losses = dict()
            for idx, head in enumerate(self.auxiliary_head):
                losses.update(add_prefix(self._binary_head_loss(head, inputs, data_samples),
                                         f'aux_{idx}'))
            return losses
        return add_prefix(self._binary_head_loss(self.auxiliary_head, inputs, data_samples),
                          'aux')

    @staticmethod
    def check_train_samples(data_samples: SampleList) -> None:
        """Every training sample must carry a mask (negatives: an all-zero one)."""
        for sample in data_samples:
            if 'gt_sem_seg' not in sample:
                path = sample.metainfo.get('img_path', '<unknown image>')
                raise ValueError(
                    f'AVSegmentor.loss: training sample {path} has no gt_sem_seg; training '
                    'batches must hold annotated frames only (S4 train: frame 1 of each video), '
                    'and negative pairs an all-zero mask')

    def loss(self, inputs: AVInputs, data_samples: SampleList) -> dict:
        """Losses of a batch.

        Args:
            inputs (dict): ``img [B, 3, H, W]`` (normalised), ``audio [B, 96, 64]`` and, for a
                clip-level similarity, ``audio_clip [B, E, 96, 64]``; optionally ``img_extra
                [B, 3, H, W]`` (see the module docstring).
            data_samples (list[SegDataSample]): With ``gt_sem_seg`` ({0, 1}, 255 = ignore) and
                metainfo ``is_sounding`` (needed by the similarity head).

        Returns:
            dict[str, Tensor]: ``decode.loss_*``, ``decode.acc_seg``, optional ``aux.*`` and
            ``sim.loss_sim``, ``sim.acc_sim``, ``sim.sim_scale``.
        """
        self.check_train_samples(data_samples)
        extra_visual = None
        if isinstance(inputs, dict) and inputs.get('img_extra') is not None:
            visual, extra_visual, audio_emb, fused = self.forward_features_with_extra(inputs)
        else:
            visual, audio_emb, fused = self.forward_features(inputs)
        losses = dict()
        mask_logits = self.decode_head.forward(fused) if self.similarity_needs_mask else None
        similarity_logits = (self.similarity_head(visual, audio_emb, mask_logits)
                             if self.soft_gate else None)
        losses.update(self._decode_head_forward_train(fused, data_samples, similarity_logits,
                                                      mask_logits))
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(fused, data_samples))
        if self.with_similarity_head:
            losses.update(add_prefix(
                self.similarity_head.loss(visual, audio_emb, data_samples,
                                          extra_visual_feats=extra_visual,
                                          mask_logits=mask_logits), 'sim'))
        return losses

    def forward_features_with_extra(self, inputs: AVInputs) -> Tuple[
            Tuple[Tensor, ...], Tuple[Tensor, ...], Tensor, Tuple[Tensor, ...]]:
        """:meth:`forward_features` for a batch with extra frames (``inputs['img_extra']``).

        The backbone encodes the ``B`` frames and the ``B`` extra frames in one pass; only the
        frames go on to the fusion and the decode head.

        Returns:
            tuple: ``(visual feats of the frames, visual feats of the extra frames, the
            similarity head's audio embedding [B, C_a], fused feats of the frames)``.
        """
        img, _ = self.unpack_inputs(inputs)
        extra = inputs['img_extra']
        if not self.with_similarity_head or self.similarity_audio != 'clip':
            raise ValueError('AVSegmentor: inputs["img_extra"] (LoadExtraClipFrame) trains the '
                             "similarity head on more frames of each clip; it needs a similarity "
                             "head with similarity_audio='clip' (the extra frame's own second of "
                             'audio is not loaded), found '
                             + ('no similarity head' if not self.with_similarity_head else
                                f'similarity_audio={self.similarity_audio!r}'))
        if extra.shape != img.shape:
            raise ValueError(f'AVSegmentor: expected img_extra of the images\' shape '
                             f'{tuple(img.shape)}, found {tuple(extra.shape)}')
        both = self.extract_visual(torch.cat([img, extra], dim=0))
        batch_size = img.size(0)
        extra_visual = tuple(feat[batch_size:] for feat in both)
        visual, similarity_emb, fused = self.fuse_audio(
            tuple(feat[:batch_size] for feat in both), inputs)
        return visual, extra_visual, similarity_emb, fused

    # ------------------------------------------------------------------ inference
    def whole_av_inference(self, inputs: AVInputs, batch_img_metas: List[dict]
                           ) -> Tuple[Tensor, Optional[Tensor]]:
        """One pass on the whole image.

        Returns:
            tuple: mask logits ``[B, 1, H, W]`` (at ``pad_shape``) and similarity
            probabilities ``[B]`` (None without a similarity head).
        """
        visual, audio_emb, fused = self.forward_features(inputs)
        seg_logits = self.decode_head.predict(fused, batch_img_metas, self.test_cfg)
        similarity = None
        if self.with_similarity_head:
            similarity_logits = self.similarity_head(
                visual, audio_emb, seg_logits if self.similarity_needs_mask else None)
            if self.soft_gate:
                seg_logits = soft_gate_logits(seg_logits, similarity_logits)
            similarity = similarity_logits.sigmoid()
        return seg_logits, similarity

    def slide_av_inference(self, inputs: AVInputs, batch_img_metas: List[dict]
                           ) -> Tuple[Tensor, Optional[Tensor]]:
        """Sliding-window inference; every crop is paired with the sample's audio.

        Mask logits are averaged where crops overlap (as in MMSeg); the similarity probability
        is the mean over crops.
        """
        img, audio = self.unpack_inputs(inputs)
        batch_size, _, height, width = img.shape
        preds = img.new_zeros((batch_size, self.out_channels, height, width))
        count = img.new_zeros((batch_size, 1, height, width))
        sim_sum, num_crops = None, 0
        for y1, y2, x1, x2 in sliding_windows(height, width, self.test_cfg.crop_size,
                                              self.test_cfg.stride):
            crop = img[:, :, y1:y2, x1:x2]
            crop_metas = [dict(meta, img_shape=crop.shape[2:]) for meta in batch_img_metas]
            logits, sim = self.whole_av_inference(dict(inputs, img=crop), crop_metas)
            preds += F.pad(logits, (x1, width - x2, y1, height - y2))
            count[:, :, y1:y2, x1:x2] += 1
            num_crops += 1
            if sim is not None:
                sim_sum = sim if sim_sum is None else sim_sum + sim
        similarity = None if sim_sum is None else sim_sum / num_crops
        return preds / count, similarity

    def av_inference(self, inputs: AVInputs, batch_img_metas: List[dict]
                     ) -> Tuple[Tensor, Optional[Tensor]]:
        """Whole or slide inference (``test_cfg.mode``): ``(mask logits, similarity)``."""
        mode = self.test_cfg.get('mode', 'whole')
        if mode == 'whole':
            return self.whole_av_inference(inputs, batch_img_metas)
        if mode == 'slide':
            return self.slide_av_inference(inputs, batch_img_metas)
        raise ValueError(f'AVSegmentor: test_cfg.mode must be "whole" or "slide", found {mode!r}')

    def encode_decode(self, inputs: AVInputs, batch_img_metas: List[dict]) -> Tensor:
        """Mask logits ``[B, 1, H, W]`` of one whole-image pass (MMSeg contract)."""
        return self.whole_av_inference(inputs, batch_img_metas)[0]

    def whole_inference(self, inputs: AVInputs, batch_img_metas: List[dict]) -> Tensor:
        """Mask logits of whole-image inference (MMSeg contract)."""
        return self.whole_av_inference(inputs, batch_img_metas)[0]

    def slide_inference(self, inputs: AVInputs, batch_img_metas: List[dict]) -> Tensor:
        """Mask logits of sliding-window inference (MMSeg contract)."""
        return self.slide_av_inference(inputs, batch_img_metas)[0]

    def inference(self, inputs: AVInputs, batch_img_metas: List[dict]) -> Tensor:
        """Mask logits of ``test_cfg.mode`` inference (MMSeg contract)."""
        return self.av_inference(inputs, batch_img_metas)[0]

    def predict(self, inputs: AVInputs, data_samples: OptSampleList = None) -> SampleList:
        """Predict masks and similarity.

        Args:
            inputs (dict): ``img [B, 3, H, W]`` and ``audio [B, 96, 64]``.
            data_samples (list[SegDataSample], optional): With metainfo (``ori_shape``,
                ``padding_size``, ``flip``...). Without them the prediction keeps the input size.

        Returns:
            list[SegDataSample]: With ``seg_logits``, ``pred_sem_seg`` and, with a similarity
            head, ``pred_similarity`` (see the module docstring).
        """
        img, _ = self.unpack_inputs(inputs)
        if data_samples is None:
            shape = tuple(img.shape[2:])
            data_samples = [
                SegDataSample(metainfo=dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
                                            padding_size=[0, 0, 0, 0]))
                for _ in range(img.size(0))
            ]
        batch_img_metas = [sample.metainfo for sample in data_samples]
        seg_logits, similarity = self.av_inference(inputs, batch_img_metas)
        return self.postprocess_result(seg_logits, data_samples, similarity)

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None,
                           similarity: Optional[Tensor] = None) -> SampleList:
        """Un-pad, un-flip, resize to ``ori_shape``, threshold and (optionally) gate.

        Args:
            seg_logits (Tensor): Mask logits ``[B, 1, H, W]`` at ``pad_shape``.
            data_samples (list[SegDataSample], optional): Samples to fill; created when None.
            similarity (Tensor, optional): Similarity probabilities ``[B]``.

        Returns:
            list[SegDataSample]: The filled samples.
        """
        batch_size, _, height, width = seg_logits.shape
        if data_samples is None:
            data_samples = [
                SegDataSample(metainfo=dict(ori_shape=(height, width)))
                for _ in range(batch_size)
            ]
        keep = None
        if similarity is not None:
            keep = similarity_gate(similarity, self.gate_thr)
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            padding = meta.get('img_padding_size', meta.get('padding_size', [0, 0, 0, 0]))
            left, right, top, bottom = padding
            logits = seg_logits[i:i + 1, :, top:height - bottom, left:width - right]
            if meta.get('flip', False):
                direction = meta.get('flip_direction', 'horizontal')
                logits = logits.flip(dims=(3, ) if direction == 'horizontal' else (2, ))
            logits = resize(logits, size=meta['ori_shape'], mode='bilinear',
                            align_corners=self.align_corners, warning=False)[0]  # [1, H, W]
            pred = (logits.sigmoid() > self.decode_head.threshold).long()
            if similarity is not None:
                sample.pred_similarity = similarity[i].detach()
            if self.gate_thr is not None:
                kept = bool(keep[i])
                pred = gate_mask(pred, kept)
                sample.set_metainfo(dict(gate_thr=float(self.gate_thr), gated=not kept))
            sample.set_data(dict(seg_logits=PixelData(data=logits),
                                 pred_sem_seg=PixelData(data=pred)))
        return data_samples

    def _forward(self, inputs: AVInputs, data_samples: OptSampleList = None) -> Tensor:
        """Tensor mode: mask logits ``[B, 1, h, w]`` at the decode head's resolution
        (soft-gated with ``soft_gate``)."""
        if not self.soft_gate:
            return self.decode_head.forward(self.extract_feat(inputs))
        visual, audio_emb, fused = self.forward_features(inputs)
        seg_logits = self.decode_head.forward(fused)
        return soft_gate_logits(seg_logits, self.similarity_head(
            visual, audio_emb, seg_logits if self.similarity_needs_mask else None))
