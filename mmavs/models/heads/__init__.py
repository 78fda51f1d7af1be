# Copyright (c) mmavs contributors. All rights reserved.
from .avsegformer_head import AVSegFormerHead, CrossModalMixer
from .base_av_head import BaseAVDecodeHead
from .similarity_head import (SimilarityHead, in_batch_negative_pairs, mask_pool,
                              scaled_cosine_logit, sounding_labels)

__all__ = [
    'AVSegFormerHead', 'CrossModalMixer', 'BaseAVDecodeHead', 'SimilarityHead',
    'in_batch_negative_pairs', 'mask_pool', 'scaled_cosine_logit', 'sounding_labels'
]
