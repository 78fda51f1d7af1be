# Copyright (c) mmavs contributors. All rights reserved.
from .audio_cnn import AudioCNN
from .vggish import VGGish

__all__ = ['VGGish', 'AudioCNN']
