# Copyright (c) mmavs contributors. All rights reserved.
"""Audio input of mmavs: reading files, VGGish log-mel featurisation, log-mel caches.

Pure functions, no registry. Every waveform (a dataset's own audio or a negative: silence, noise,
off-screen, unseen) becomes a model input through :func:`waveform_to_examples`; cached log-mel
files are written by the same function; a user's own frames get their examples through
:mod:`.frame_examples`. Spec: ``docs/audio.md``.
"""
from .cache import load_log_mel_cache, save_log_mel_cache
from .frame_examples import (example_indices, featurise_for_frames, frame_audio_examples,
                             frame_clip_examples)
from .levels import dbfs_to_rms, is_silent, rms_dbfs
from .loading import (DURATION_TOLERANCE, SOXR_QUALITY, AudioLengthError, AudioLoadError,
                      check_audio_length, load_audio, resample_waveform, wav_header_frames)
from .log_mel import (EXAMPLE_FRAMES, EXAMPLE_SAMPLES, LOG_OFFSET, NUM_MEL_BINS, VGGISH_SAMPLE_RATE,
                      fit_num_examples, log_mel_frames, num_examples_for, periodic_hann,
                      vggish_mel_matrix, waveform_to_examples)

__all__ = [
    'AudioLoadError', 'AudioLengthError', 'check_audio_length', 'wav_header_frames',
    'DURATION_TOLERANCE', 'load_audio', 'resample_waveform', 'SOXR_QUALITY', 'waveform_to_examples',
    'log_mel_frames', 'num_examples_for', 'fit_num_examples', 'vggish_mel_matrix', 'periodic_hann',
    'load_log_mel_cache', 'save_log_mel_cache', 'VGGISH_SAMPLE_RATE', 'EXAMPLE_FRAMES',
    'EXAMPLE_SAMPLES', 'NUM_MEL_BINS', 'LOG_OFFSET', 'example_indices', 'featurise_for_frames',
    'frame_audio_examples', 'frame_clip_examples', 'dbfs_to_rms', 'rms_dbfs', 'is_silent'
]
