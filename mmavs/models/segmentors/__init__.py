# Copyright (c) mmavs contributors. All rights reserved.
from .av_segmentor import AVSegmentor, sliding_windows
from .gating import gate_mask, similarity_gate

__all__ = ['AVSegmentor', 'sliding_windows', 'similarity_gate', 'gate_mask']
