# Copyright (c) mmavs contributors. All rights reserved.
from .av_segmentor import AVSegmentor
from .gating import similarity_gate

__all__ = ['AVSegmentor', 'similarity_gate']
