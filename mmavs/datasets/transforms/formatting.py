# Copyright (c) mmavs contributors. All rights reserved.
"""Packing of audio-visual samples: the second modality travels in ``inputs``.

:class:`PackAVSegInputs` returns ``dict(inputs=dict(img=Tensor[3, H, W] uint8,
audio=Tensor[96, 64] float32), data_samples=SegDataSample)``, plus ``audio_clip``
(``Tensor[E, 96, 64]``, every example of the clip) when the loader provides it.

Why in ``inputs`` and not in the data sample (mmdet3d's multi-modality precedent, see
``docs/design.md``): audio is an input of the network, not an annotation. In ``inputs`` the data
preprocessor batches it and moves it to the device together with the image, the model signature
(``loss``/``predict``/``_forward``, FLOP counters, export) sees both modalities, and
``SegDataSample`` keeps holding annotations and predictions only.
"""
import numpy as np
import torch
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

#: Metainfo keys every packed ``SegDataSample`` carries (those present in the sample).
AVS_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
                 'flip', 'flip_direction', 'reduce_zero_label', 'video_id', 'frame_idx', 'category',
                 'split', 'condition', 'is_sounding')


@TRANSFORMS.register_module()
class PackAVSegInputs(PackSegInputs):
    """Pack image, audio and mask of an audio-visual sample.

    Image and ``gt_seg_map`` are packed exactly as MMSeg's :class:`PackSegInputs` does
    (``gt_sem_seg``: PixelData ``[1, H, W]`` long); ``results['audio']`` (from
    :class:`LoadAVSAudio`) is added to ``inputs``.

    Required keys: ``img``, ``audio``; optional ``audio_clip``, ``gt_seg_map`` and the meta
    keys.

    Args:
        meta_keys (Sequence[str]): Metainfo keys; default :data:`AVS_META_KEYS`.
    """

    def __init__(self, meta_keys=AVS_META_KEYS):
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        if 'audio' not in results:
            raise KeyError(f'PackAVSegInputs needs results["audio"] for {results.get("img_path")};'
                           ' add LoadAVSAudio to the pipeline')
        if 'img' not in results:
            raise KeyError('PackAVSegInputs needs results["img"]; add LoadImageFromFile')
        packed = super().transform(results)
        audio = results['audio']
        packed['inputs'] = dict(img=packed['inputs'], audio=self._tensor(audio))
        if results.get('audio_clip') is not None:
            packed['inputs']['audio_clip'] = self._tensor(results['audio_clip'])
        return packed

    @staticmethod
    def _tensor(audio) -> torch.Tensor:
        if isinstance(audio, np.ndarray):
            audio = torch.from_numpy(np.ascontiguousarray(audio))
        return audio.float()
