# Copyright (c) mmavs contributors. All rights reserved.
"""The audio-visual segmentor: MMSeg's encoder-decoder with a second modality in ``inputs``.

Where the audio meets the image (:meth:`AVSegmentor.decode_inputs`)::

    inputs = dict(img=[B, 3, H, W], audio=[B, 96, 64] (, audio_clip=[B, E, 96, 64]))
    img   -> backbone (MMSeg / MMPretrain / mmavs) -> visual feats (tuple of [B, C_i, H_i, W_i])
    audio -> audio_backbone (VGGish / AudioCNN) (-> audio_neck) -> audio embedding [B, C_a]
    visual feats -> neck (optional) -> fusion(feats, audio) -> MMSeg decode head   (fusion set)
                                    -> (feats, audio) -> audio-visual decode head  (no fusion)
                 -> mask logits [B, 1, h, w]
    visual feats (before neck and fusion) + audio embedding (+ mask logits)
                 -> similarity head -> logit [B]

The image and the audio are encoded once (:meth:`AVSegmentor.extract_feat`); the heads own the
multimodal step, as in MMSeg's ``MultimodalEncoderDecoder``. A plain MMSeg decode head reads the
visual features with the audio fused in by a neck-like ``fusion`` module
(:class:`~mmavs.models.fusion.BaseAVFusion`); a head that fuses the audio itself
(:class:`~mmavs.models.heads.BaseAVDecodeHead`) receives ``(visual feats, audio embedding)``.

**Audio level** (``audio_level``): the embedding is the frame's own second of audio
(``'frame'``, ``inputs['audio']``) or the *clip-level* embedding (``'clip'``): the mean of the
audio backbone's embeddings of every example of the clip (``inputs['audio_clip']``, from
``LoadAVSAudio(with_clip=True)``), as the paper describes the similarity's input. A clip-level
embedding does not depend on whether the frame's second falls into a pause of the sound, and five
seconds of noise or off-screen audio are judged on five seconds of evidence; it suits
single-source clips (S4), whose object sounds all clip long.

``loss`` returns the decode (and auxiliary) head losses prefixed ``decode.``/``aux.`` and the
similarity losses prefixed ``sim.``. ``predict`` fills each ``SegDataSample`` as MMSeg's
``postprocess_result`` does for a single-channel head (``seg_logits``: the sigmoid probability
map ``[1, H, W]``, never gated; ``pred_sem_seg``: ``probability > threshold``, long ``[1, H, W]``),
then adds ``pred_similarity`` (``Tensor[]`` probability) and, with ``gate_thr`` set, empties
``pred_sem_seg`` of frames whose similarity is below it and records ``gate_thr`` and ``gated`` in
the metainfo, so reports show results with and without gating from one run.
"""
from typing import List, Optional, Tuple, Union

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig, OptSampleList, SampleList,
                         add_prefix)
from torch import Tensor

from ...utils.gate import check_gate_thr
from ..heads.base_av_head import BaseAVDecodeHead
from ..losses.functional import binary_pixel_accuracy
from .gating import similarity_gate

#: Audio levels of :class:`AVSegmentor` (see the module docstring).
AUDIO_LEVELS = ('frame', 'clip')
VisualFeats = Tuple[Tensor, ...]


@MODELS.register_module()
class AVSegmentor(EncoderDecoder):
    """Audio-visual segmentor (binary, one sigmoid channel) extending ``EncoderDecoder``.

    Args:
        backbone (dict): Visual backbone, any MMSeg backbone or ``type='mmpretrain.X'``;
            must return a tuple/list of ``[B, C_i, H_i, W_i]`` maps.
        audio_backbone (dict): Audio backbone (``VGGish``, ``AudioCNN``): log-mel
            ``[N, 96, 64]`` -> embedding ``[N, C_a]``. A frozen one (``VGGish(frozen=True)``)
            keeps itself in eval mode without gradients.
        audio_neck (dict, optional): A module on the audio embedding that every head reads
            (``AudioProjection``: AVSegFormer's trainable 128 -> 256 projection).
        decode_head (dict): A decode head with ``num_classes=2, out_channels=1``: an MMSeg head
            (with ``fusion``) or a :class:`~mmavs.models.heads.BaseAVDecodeHead` (without).
        fusion (dict, optional): Neck-like audio-visual fusion (``TPAVIFusion``,
            ``ChannelGateFusion``) between the (neck) features and an MMSeg decode head.
        similarity_head (dict, optional): ``SimilarityHead``. Defaults to None.
        neck (dict, optional): MMSeg neck on the visual features, before the fusion.
        auxiliary_head (dict | list[dict], optional): Auxiliary heads, fed as the decode head.
        audio_level (str): ``'frame'`` (default) or ``'clip'`` (see the module docstring).
        gate_thr (float, optional): Similarity probability in [0, 1] below which
            ``pred_sem_seg`` is emptied at inference. None (default) disables gating.
        train_cfg (dict, optional): Training config.
        test_cfg (dict, optional): ``dict(mode='whole')`` (the only mode: every crop of a
            sliding window would need its own similarity decision).
        data_preprocessor (dict, optional): ``AVSegDataPreProcessor`` config.
        pretrained (str, optional): Visual backbone checkpoint (MMSeg convention).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 audio_backbone: ConfigType,
                 decode_head: ConfigType,
                 fusion: OptConfigType = None,
                 similarity_head: OptConfigType = None,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 audio_neck: OptConfigType = None,
                 audio_level: str = 'frame',
                 gate_thr: Optional[float] = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None):
        test_cfg = dict(mode='whole') if test_cfg is None else test_cfg
        if test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError("AVSegmentor: test_cfg.mode must be 'whole' (every crop of a "
                             'sliding window would need its own similarity decision), found '
                             f"{test_cfg.get('mode')!r}")
        if audio_level not in AUDIO_LEVELS:
            raise ValueError(f'AVSegmentor: audio_level must be one of {AUDIO_LEVELS}, found '
                             f'{audio_level!r}')
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
        self.audio_neck = MODELS.build(audio_neck) if audio_neck is not None else None
        self.fusion = MODELS.build(fusion) if fusion is not None else None
        head_fuses = isinstance(self.decode_head, BaseAVDecodeHead)
        if head_fuses == (self.fusion is not None):
            raise ValueError(
                'AVSegmentor: the audio meets the image either in a fusion module before an '
                'MMSeg decode head or inside an audio-visual decode head (BaseAVDecodeHead), '
                f'found fusion={type(self.fusion).__name__ if self.fusion else None} with '
                f'{type(self.decode_head).__name__}')
        self.similarity_head = (
            MODELS.build(similarity_head) if similarity_head is not None else None)
        self.audio_level = audio_level
        self.gate_thr = gate_thr

    @property
    def gate_thr(self) -> Optional[float]:
        """float | None: The similarity gate's threshold (validated, in [0, 1])."""
        return self._gate_thr

    @gate_thr.setter
    def gate_thr(self, value: Optional[float]) -> None:
        value = check_gate_thr(value, 'AVSegmentor.gate_thr')
        if value is not None and getattr(self, 'similarity_head', None) is None:
            raise ValueError('AVSegmentor: gate_thr needs a similarity_head (gating thresholds '
                             'the similarity probability)')
        self._gate_thr = value

    @property
    def with_similarity_head(self) -> bool:
        """bool: Whether the segmentor has a similarity head."""
        return self.similarity_head is not None

    @property
    def needs_audio_clip(self) -> bool:
        """bool: Whether the model reads ``inputs['audio_clip']`` (clip-level audio)."""
        return self.audio_level == 'clip'

    # ------------------------------------------------------------------ features
    def extract_audio(self, inputs: dict) -> Tensor:
        """Audio embedding ``[B, C_a]`` at :attr:`audio_level`.

        ``'frame'``: the audio backbone on ``inputs['audio'] [B, 96, 64]``; ``'clip'``: the mean
        of its embeddings of ``inputs['audio_clip'] [B, E, 96, 64]`` over the ``E`` examples;
        then the ``audio_neck``, if any.
        """
        emb = self._level_embedding(inputs)
        return self.audio_neck(emb) if self.audio_neck is not None else emb

    def _level_embedding(self, inputs: dict) -> Tensor:
        if self.audio_level == 'frame':
            return self._embed_audio(inputs['audio'])
        clip = inputs.get('audio_clip')
        batch_size = inputs['img'].size(0)
        if clip is None:
            raise KeyError("AVSegmentor with audio_level='clip' needs inputs['audio_clip'] "
                           "[B, E, 96, 64]: load the audio with dict(type='LoadAVSAudio', "
                           'with_clip=True)')
        if clip.dim() != 4 or clip.size(0) != batch_size:
            raise ValueError(f'AVSegmentor: expected audio_clip [B={batch_size}, E, 96, 64], '
                             f'found {tuple(clip.shape)}')
        emb = self._embed_audio(clip.flatten(0, 1))
        return emb.view(batch_size, clip.size(1), -1).mean(dim=1)

    def _embed_audio(self, audio: Tensor) -> Tensor:
        emb = self.audio_backbone(audio)
        if isinstance(emb, (tuple, list)):
            emb = emb[-1]
        if emb.dim() != 2:
            raise ValueError('AVSegmentor: the audio backbone must return [N, C_a], found '
                             f'{tuple(emb.shape)} from {type(self.audio_backbone).__name__}')
        return emb

    def extract_feat(self, inputs: dict) -> Tuple[VisualFeats, Tensor]:
        """Encode both modalities once.

        Args:
            inputs (dict): ``img [B, 3, H, W]`` (normalised), ``audio [B, 96, 64]`` and, with
                ``audio_level='clip'``, ``audio_clip [B, E, 96, 64]``.

        Returns:
            tuple: ``(visual feats, audio embedding)``: the backbone's maps (a tuple of
            ``[B, C_i, H_i, W_i]``, before neck and fusion) and ``[B, C_a]``.
        """
        if not isinstance(inputs, dict) or 'img' not in inputs or 'audio' not in inputs:
            found = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise TypeError('AVSegmentor expects inputs=dict(img=Tensor[B, 3, H, W], '
                            f'audio=Tensor[B, 96, 64]) (see docs/design.md), found {found}')
        img, audio = inputs['img'], inputs['audio']
        if img.dim() != 4 or audio.size(0) != img.size(0):
            raise ValueError('AVSegmentor: expected img [B, 3, H, W] and audio [B, 96, 64] with '
                             f'the same B, found img {tuple(img.shape)} and audio '
                             f'{tuple(audio.shape)}')
        visual = self.backbone(img)
        visual = (visual, ) if isinstance(visual, Tensor) else tuple(visual)
        return visual, self.extract_audio(inputs)

    def decode_inputs(self, visual: VisualFeats,
                      audio: Tensor) -> Union[VisualFeats, Tuple[VisualFeats, Tensor]]:
        """Where the audio meets the image: what the decode (and auxiliary) heads read.

        Returns:
            The fused maps ``fusion(neck(visual), audio)`` for an MMSeg decode head, or
            ``(neck(visual), audio)`` for an audio-visual decode head.
        """
        feats = self.neck(visual) if self.with_neck else visual
        if self.fusion is not None:
            return self.fusion(feats, audio)
        return feats, audio

    def encode_decode(self, inputs: dict, batch_img_metas: List[dict]) -> Tensor:
        """Mask logits ``[B, 1, H, W]`` at the input size (MMSeg contract)."""
        visual, audio = self.extract_feat(inputs)
        return self.decode_head.predict(
            self.decode_inputs(visual, audio), batch_img_metas, self.test_cfg)

    def _forward(self, inputs: dict, data_samples: OptSampleList = None) -> Tensor:
        """Tensor mode: mask logits ``[B, 1, h, w]`` at the decode head's resolution."""
        return self.decode_head.forward(self.decode_inputs(*self.extract_feat(inputs)))

    # ------------------------------------------------------------------ training
    def loss(self, inputs: dict, data_samples: SampleList) -> dict:
        """Losses of a batch.

        Args:
            inputs (dict): See :meth:`extract_feat`.
            data_samples (list[SegDataSample]): With ``gt_sem_seg`` ({0, 1}, 255 = ignore;
                negatives: all zero) and metainfo ``is_sounding`` (for the similarity head).

        Returns:
            dict[str, Tensor]: ``decode.loss_*``, ``decode.acc_seg`` (binary pixel accuracy),
            optional ``aux.*`` and ``sim.*``.
        """
        for sample in data_samples:
            if 'gt_sem_seg' not in sample:
                raise ValueError(
                    f"AVSegmentor.loss: training sample {sample.metainfo.get('img_path')} has no "
                    'gt_sem_seg; training batches hold annotated frames only (S4 train: frame 1 '
                    'of each video), and negative pairs an all-zero mask')
        visual, audio = self.extract_feat(inputs)
        head_inputs = self.decode_inputs(visual, audio)
        seg_outputs = self.decode_head.forward(head_inputs)
        decode_losses = self.decode_head.loss_by_feat(seg_outputs, data_samples)
        # a head may return more than the mask logits for its own losses: logits come first
        seg_logits = seg_outputs[0] if isinstance(seg_outputs, tuple) else seg_outputs
        decode_losses['acc_seg'] = self._binary_accuracy(seg_logits, data_samples)
        losses = add_prefix(decode_losses, 'decode')
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(head_inputs, data_samples))
        if self.with_similarity_head:
            losses.update(
                add_prefix(
                    self.similarity_head.loss(visual, audio, data_samples, mask_logits=seg_logits),
                    'sim'))
        return losses

    @torch.no_grad()
    def _binary_accuracy(self, seg_logits: Tensor, data_samples: SampleList) -> Tensor:
        """Pixel accuracy (%) of ``sigmoid > threshold``: MMSeg's ``acc_seg`` takes an argmax
        over the single sigmoid channel (always class 0). A logged number: no autograd graph."""
        label = torch.stack([s.gt_sem_seg.data for s in data_samples])  # [B, 1, H, W]
        seg_logits = resize(
            seg_logits, size=label.shape[2:], mode='bilinear', align_corners=self.align_corners)
        return binary_pixel_accuracy(seg_logits, label[:, 0], self.decode_head.ignore_index,
                                     self.decode_head.threshold)

    # ------------------------------------------------------------------ inference
    def predict(self, inputs: dict, data_samples: OptSampleList = None) -> SampleList:
        """Predict masks and similarity.

        Args:
            inputs (dict): See :meth:`extract_feat`.
            data_samples (list[SegDataSample], optional): With metainfo (``ori_shape``,
                ``padding_size``, ``flip``...). Without them the prediction keeps the input size.

        Returns:
            list[SegDataSample]: See the module docstring.
        """
        if data_samples is not None:
            batch_img_metas = [sample.metainfo for sample in data_samples]
        else:
            shape = inputs['img'].shape[2:]
            batch_img_metas = [
                dict(ori_shape=shape, img_shape=shape, pad_shape=shape, padding_size=[0, 0, 0, 0])
            ] * inputs['img'].shape[0]
        visual, audio = self.extract_feat(inputs)
        seg_logits = self.decode_head.predict(
            self.decode_inputs(visual, audio), batch_img_metas, self.test_cfg)
        similarity = None
        if self.with_similarity_head:
            similarity = self.similarity_head.predict(visual, audio, mask_logits=seg_logits)
        return self.postprocess_result(seg_logits, data_samples, similarity)

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None,
                           similarity: Optional[Tensor] = None) -> SampleList:
        """MMSeg's post-processing (un-pad, un-flip, resize, sigmoid, threshold), then the
        similarity and the gate.

        Args:
            seg_logits (Tensor): Mask logits ``[B, 1, H, W]``.
            data_samples (list[SegDataSample], optional): Samples to fill.
            similarity (Tensor, optional): Similarity probabilities ``[B]``.

        Returns:
            list[SegDataSample]: The filled samples.
        """
        data_samples = super().postprocess_result(seg_logits, data_samples)
        keep = similarity_gate(similarity, self.gate_thr) if similarity is not None else None
        for i, sample in enumerate(data_samples):
            pred = sample.pred_sem_seg.data.long()
            if similarity is not None:
                sample.pred_similarity = similarity[i].detach()
                if self.gate_thr is not None:
                    kept = bool(keep[i])
                    sample.set_metainfo(dict(gate_thr=self.gate_thr, gated=not kept))
                    if not kept:
                        pred = torch.zeros_like(pred)
            sample.pred_sem_seg.data = pred
        return data_samples
