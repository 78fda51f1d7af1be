# Copyright (c) mmavs contributors. All rights reserved.
from .audio_projection import AudioProjection

__all__ = ['AudioProjection']
