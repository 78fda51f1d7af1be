# Copyright (c) mmavs contributors. All rights reserved.
"""SynthAVS: a procedural audio-visual segmentation benchmark in the exact AVSBench layout.

See ``docs/data.md`` for the design (categories, looks, sounds, visual bias) and
``tools/dataset_converters/make_synth_avs.py`` for the command line.
"""
from .catalog import CATEGORIES, CATEGORY_LOOKS, CategoryLook
from .scene import Clip, ObjectTrack, render_clip, sample_ms3_objects, sample_s4_objects
from .sounds import SOUND_FUNCTIONS, synthesize_clip_audio
from .writer import (MANIFEST_NAME, SYNTH_VERSION, SynthAVSConfig, VideoTask, generate_synth_avs,
                     plan_videos, video_files, write_video)

__all__ = [
    'CATEGORIES', 'CATEGORY_LOOKS', 'CategoryLook', 'Clip', 'ObjectTrack', 'render_clip',
    'sample_ms3_objects', 'sample_s4_objects', 'SOUND_FUNCTIONS', 'synthesize_clip_audio',
    'MANIFEST_NAME', 'SYNTH_VERSION', 'SynthAVSConfig', 'VideoTask', 'generate_synth_avs',
    'plan_videos', 'video_files', 'write_video'
]
