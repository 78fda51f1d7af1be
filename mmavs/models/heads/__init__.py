# Copyright (c) mmavs contributors. All rights reserved.
from .similarity_head import SimilarityHead, scaled_cosine_logit, sounding_labels

__all__ = ['SimilarityHead', 'scaled_cosine_logit', 'sounding_labels']
