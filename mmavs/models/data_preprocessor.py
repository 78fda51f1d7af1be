# Copyright (c) mmavs contributors. All rights reserved.
"""Data preprocessor of audio-visual samples: MMSeg's image path plus audio batching.

Input (from ``pseudo_collate`` of :class:`~mmavs.datasets.transforms.PackAVSegInputs` outputs):
``dict(inputs=dict(img=[Tensor[3, H, W]] * B, audio=[Tensor[96, 64]] * B), data_samples=[...])``.
Output: ``dict(inputs=dict(img=Tensor[B, 3, H', W'], audio=Tensor[B, 96, 64]),
data_samples=[...])``; an ``audio_clip`` input (``[E, 96, 64]`` per sample, every example of
the clip) is stacked the same way into ``[B, E, 96, 64]``.

The image part goes through :meth:`SegDataPreProcessor.forward` unchanged (channel conversion,
normalisation, padding of images *and* ``gt_sem_seg`` in training, test-time padding), so every
MMSeg option behaves as documented there.
"""
from typing import Any, Dict, Sequence, Union

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class AVSegDataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` for ``inputs=dict(img=..., audio=...)``.

    ``img`` is normalised and padded exactly like MMSeg's preprocessor; ``audio`` (a list of
    ``[96, 64]`` tensors, or an already stacked ``[B, 96, 64]`` tensor) is stacked, cast to
    float32 and moved to the model's device; so is ``audio_clip`` (``[B, E, 96, 64]``) when
    present. Other keys of ``inputs`` are moved to the device unchanged. All arguments are those of
    :class:`SegDataPreProcessor`.
    """

    def stack_audio(self, audio: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        """List of ``[96, 64]`` (or a stacked ``[B, 96, 64]``) -> float32 ``[B, 96, 64]`` on
        the preprocessor's device."""
        if isinstance(audio, (list, tuple)):
            if len(audio) == 0:
                raise ValueError('expected at least one audio example, found an empty batch')
            shapes = {tuple(a.shape) for a in audio}
            if len(shapes) != 1:
                raise ValueError(f'expected audio examples of one shape, found {sorted(shapes)}')
            audio = torch.stack(list(audio), dim=0)
        elif not isinstance(audio, torch.Tensor):
            raise TypeError(f'expected inputs["audio"] as a Tensor or a list of Tensors, found '
                            f'{type(audio).__name__}')
        return self.cast_data(audio).float()

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Preprocess a collated batch.

        Args:
            data (dict): ``dict(inputs=dict(img=..., audio=...), data_samples=...)``.
            training (bool): Training mode (pads ``gt_sem_seg`` with the images).

        Returns:
            dict: ``dict(inputs=dict(img=Tensor[B, 3, H, W], audio=Tensor[B, 96, 64]),
            data_samples=list[SegDataSample])``.
        """
        inputs = data['inputs']
        if not isinstance(inputs, dict) or 'img' not in inputs or 'audio' not in inputs:
            found = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise TypeError('AVSegDataPreProcessor expects inputs=dict(img=..., audio=...) '
                            f'(pack with PackAVSegInputs), found {found}')
        image_batch = super().forward(
            dict(inputs=inputs['img'], data_samples=data.get('data_samples')), training)
        audio = self.stack_audio(inputs['audio'])
        batch_size = image_batch['inputs'].shape[0]
        if audio.shape[0] != batch_size:
            raise ValueError(f'expected {batch_size} audio examples (one per image), found '
                             f'{audio.shape[0]}')
        extra = {
            k: self.cast_data(v)
            for k, v in inputs.items() if k not in ('img', 'audio', 'audio_clip')
        }
        if inputs.get('audio_clip') is not None:
            clip = self.stack_audio(inputs['audio_clip'])
            if clip.dim() != 4 or clip.shape[0] != batch_size:
                raise ValueError(f'expected audio_clip [B={batch_size}, E, 96, 64] (every example '
                                 f'of each clip), found {tuple(clip.shape)}')
            extra['audio_clip'] = clip
        return dict(
            inputs=dict(img=image_batch['inputs'], audio=audio, **extra),
            data_samples=image_batch['data_samples'])
