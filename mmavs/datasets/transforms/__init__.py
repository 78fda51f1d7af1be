# Copyright (c) mmavs contributors. All rights reserved.
from .clip_frames import LoadExtraClipFrame
from .formatting import AVS_META_KEYS, PackAVSegInputs
from .negative_audio import AddNegativeAudio
from .loading import LoadAVSAudio, LoadAVSFrame, LoadAVSMask, read_binary_mask

__all__ = ['AVS_META_KEYS', 'PackAVSegInputs', 'LoadAVSAudio', 'LoadAVSFrame', 'LoadAVSMask',
           'read_binary_mask', 'AddNegativeAudio', 'LoadExtraClipFrame']
