# Copyright (c) mmavs contributors. All rights reserved.
from .formatting import AVS_META_KEYS, PackAVSegInputs
from .loading import LoadAVSAudio, LoadAVSFrame, LoadAVSMask, read_binary_mask
from .negative_audio import AddNegativeAudio

__all__ = [
    'AVS_META_KEYS', 'PackAVSegInputs', 'LoadAVSAudio', 'LoadAVSFrame', 'LoadAVSMask',
    'read_binary_mask', 'AddNegativeAudio'
]
