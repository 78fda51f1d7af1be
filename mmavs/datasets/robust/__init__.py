# Copyright (c) mmavs contributors. All rights reserved.
"""AVSBench-Robust: negative audio, its deterministic manifest, and the dataset wrappers.

One concept per module: :mod:`.seeding` (keyed randomness), :mod:`.waveforms` (silence, noise,
unseen recordings), :mod:`.donors` (off-screen donor rules), :mod:`.manifest` (the versioned list
of every video's negatives), :mod:`.base` (wrapper plumbing), :mod:`.train_dataset` (the balanced
training stream), :mod:`.test_dataset` (a split under every condition), :mod:`.samplers`,
:mod:`.export` (the negatives as AVSBench audio folders for other codebases).
"""
from .donors import DONOR_RULES, DonorPool, allowed_donor_groups, is_valid_donor
from .export import ExportError, export_robust_audio
from .manifest import (ManifestError, build_manifest, default_manifest_path, load_manifest,
                       write_manifest)
from .samplers import RobustInfiniteSampler, RobustSampler
from .seeding import derive_seed, draw_index, stable_hash, standard_normal
from .test_dataset import RobustTestDataset, negative_spec
from .train_dataset import (DEFAULT_NEG_RATIOS, HELD_OUT_CONDITIONS, RobustTrainDataset,
                            stream_layout)
from .waveforms import (DEFAULT_NOISE_DBFS, DEFAULT_UNSEEN_DIR, NOISE_TYPES, fit_length,
                        list_unseen_recordings, load_unseen_waveform, make_noise, make_silence,
                        resolve_unseen_dir)

__all__ = [
    'RobustTrainDataset', 'RobustTestDataset', 'RobustSampler', 'RobustInfiniteSampler',
    'DonorPool', 'DONOR_RULES', 'allowed_donor_groups', 'is_valid_donor', 'ManifestError',
    'build_manifest', 'default_manifest_path', 'load_manifest', 'write_manifest', 'derive_seed',
    'draw_index', 'stable_hash', 'standard_normal', 'stream_layout', 'DEFAULT_NEG_RATIOS',
    'HELD_OUT_CONDITIONS', 'DEFAULT_NOISE_DBFS', 'DEFAULT_UNSEEN_DIR', 'NOISE_TYPES', 'fit_length',
    'list_unseen_recordings', 'load_unseen_waveform', 'make_noise', 'make_silence',
    'resolve_unseen_dir', 'negative_spec', 'export_robust_audio', 'ExportError'
]
