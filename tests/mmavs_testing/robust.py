# Copyright (c) mmavs contributors. All rights reserved.
"""Helpers of the AVSBench-Robust tests: tiny data writers, pipelines, an in-memory dataset."""
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import soundfile as sf
from mmengine.dataset import BaseDataset

from mmavs.datasets.categories import AVSBENCH_S4_GROUPS
from mmavs.datasets.transforms.negative_audio import AddNegativeAudio
from mmavs.synth import SynthAVSConfig

#: The manifest tool, run in-process by :func:`run_tool`.
TOOL = osp.join(
    osp.dirname(__file__), '..', '..', 'tools', 'dataset_converters', 'make_robust_manifest.py')

#: Videos per split of the tiny SynthAVS tree (S4, MS3) and its frame side in px.
TINY_SYNTH = SynthAVSConfig(
    seed=3, s4_train=12, s4_val=4, s4_test=6, ms3_train=4, ms3_val=3, ms3_test=3, size=32)


def write_wav(path, waveform, sample_rate, subtype='FLOAT'):
    sf.write(str(path), np.asarray(waveform), sample_rate, subtype=subtype)
    return str(path)


def s4_pipeline(use_cache=False):
    """The full S4 sample pipeline with AddNegativeAudio first (no geometric transforms)."""
    return [
        dict(type='AddNegativeAudio'),
        dict(type='LoadImageFromFile'),
        dict(type='LoadAVSMask'),
        dict(type='LoadAVSAudio', use_cache=use_cache),
        dict(type='PackAVSegInputs'),
    ]


def summarise(results):
    """Last pipeline step of the in-memory dataset: what the sample became."""
    return dict(
        condition=results.get('condition'),
        video_id=results['video_id'],
        is_sounding=results.get('is_sounding'),
        source=results.get('negative_source'),
        num_samples=None if results.get('audio_waveform') is None else int(
            len(results['audio_waveform'])))


class ToyFrameDataset(BaseDataset):
    """In-memory frames of ``num_videos`` videos (one frame each) over the 23 S4 categories.

    Every video's ``audio_path`` is one of a few real wav files in ``audio_dir``.
    """

    def __init__(self, num_videos, audio_dir, categories=None, split='train', **kwargs):
        self.num_videos = num_videos
        self.audio_dir = audio_dir
        self.categories = list(categories or AVSBENCH_S4_GROUPS)
        self.split = split
        self.video_infos = []
        kwargs.setdefault('pipeline', [AddNegativeAudio(), summarise])
        super().__init__(**kwargs)

    def load_data_list(self):
        wavs = []
        for k in range(3):
            path = osp.join(self.audio_dir, f'toy_{k}.wav')
            if not osp.isfile(path):
                write_wav(path, 0.1 * np.sin(np.arange(16000 * 5) * 0.01 * (k + 1)), 16000)
            wavs.append(path)
        data_list = []
        self.video_infos = []
        for i in range(self.num_videos):
            vid = f'toy_{i:05d}'
            category = self.categories[i % len(self.categories)]
            info = dict(
                video_id=vid, category=category, split=self.split, audio_path=wavs[i % len(wavs)])
            self.video_infos.append(info)
            data_list.append(
                dict(
                    info,
                    img_path=f'{vid}.png',
                    seg_map_path=f'{vid}_mask.png',
                    frame_idx=0,
                    is_sounding=1,
                    condition='positive'))
        return data_list


def run_tool(args, monkeypatch):
    """Run make_robust_manifest.py with ``args``; return its exit code."""
    monkeypatch.setattr(sys, 'argv', [TOOL] + list(args))
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(TOOL, run_name='__main__')
    return stop.value.code
