# Copyright (c) mmavs contributors. All rights reserved.
"""Constants of the AVSBench convention, defined once for the whole package.

An AVSBench clip is 5 s long with one frame per second; its audio is featurised at 16 kHz into
one 0.96 s VGGish log-mel example per frame (example ``i`` belongs to frame ``i``). The audio
conditions of AVSBench-Robust name the audio a frame is paired with: its own (``positive``) or a
negative one.
"""
#: Sample rate of every waveform a model hears (Hz): VGGish's input rate.
SAMPLE_RATE = 16000
#: Length of an AVSBench clip (s) and its number of samples at :data:`SAMPLE_RATE`.
CLIP_SECONDS = 5
CLIP_SAMPLES = SAMPLE_RATE * CLIP_SECONDS
#: Frames per clip (one per second) = log-mel examples per clip.
FRAMES_PER_CLIP = 5
#: Duration of one log-mel example (s): 96 frames of 10 ms.
EXAMPLE_SECONDS = 0.96

#: The audio condition of a frame paired with its own audio.
POSITIVE_CONDITION = 'positive'
#: The negative audio conditions of AVSBench-Robust, in report order.
NEGATIVE_CONDITIONS = ('silence', 'noise', 'offscreen', 'unseen')
#: Every condition, in report order.
CONDITIONS = (POSITIVE_CONDITION, ) + NEGATIVE_CONDITIONS

#: Category of an MS3 video (several sources, no single category, no coarse group).
MULTI_SOURCE_CATEGORY = 'multi'
