# Copyright (c) mmavs contributors. All rights reserved.
"""Base of the decode heads that fuse the audio themselves."""
from typing import Sequence, Tuple

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor

AVHeadInputs = Tuple[Sequence[Tensor], Tensor]


class BaseAVDecodeHead(BaseDecodeHead):
    """An MMSeg decode head whose input is ``(visual feats, audio embedding)``.

    :class:`~mmavs.models.segmentors.AVSegmentor` hands such a head the visual features (after
    the optional neck, a sequence of ``[B, C_i, H_i, W_i]``) together with the audio embedding
    ``[B, C_a]``, instead of features that a fusion module already mixed; the head owns the
    audio-visual step. Everything else is MMSeg's contract: :meth:`forward` returns mask logits
    ``[B, 1, h, w]`` (or, for the head's own extra losses in training, a tuple whose first item
    is the mask logits) that ``loss_by_feat`` and ``predict_by_feat`` consume, and
    ``_transform_inputs`` selects ``in_index`` from the visual features.
    """

    @staticmethod
    def split_inputs(inputs: AVHeadInputs) -> Tuple[Sequence[Tensor], Tensor]:
        """``(visual feats, audio embedding)`` of the head's input, checked."""
        if not isinstance(inputs,
                          (tuple, list)) or len(inputs) != 2 or not isinstance(inputs[1], Tensor):
            raise TypeError('an audio-visual decode head expects (visual feats, audio '
                            'embedding [B, C_a]) from AVSegmentor without a fusion module, '
                            f'found {type(inputs).__name__}')
        return inputs[0], inputs[1]
