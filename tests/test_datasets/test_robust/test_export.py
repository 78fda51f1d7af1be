# Copyright (c) mmavs contributors. All rights reserved.
"""Exporting the negative audio in the AVSBench layout: layout, bytes, features, resuming."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmavs.audio import (AudioLoadError, load_audio, load_log_mel_cache, save_log_mel_cache,
                         waveform_to_examples)
from mmavs.datasets.robust import RobustTestDataset
from mmavs.datasets.robust.base import collect_video_infos
from mmavs.datasets.robust.export import ExportError, clip_paths, export_robust_audio, file_sha256
from mmavs.datasets.robust.manifest import ManifestError, build_manifest, write_manifest
from mmavs.datasets.robust.waveforms import list_unseen_recordings
from mmavs_testing import REPO
from mmavs_testing.robust import s4_pipeline

TOOL = REPO / 'tools' / 'dataset_converters' / 'export_robust_audio.py'
NEGATIVES = ('silence', 'noise', 'offscreen', 'unseen')


def _manifest(root, subset, unseen_dir, path, seed=42):
    dataset = 'AVSBenchS4Dataset' if subset == 's4' else 'AVSBenchMS3Dataset'
    infos = collect_video_infos(dict(type=dataset, data_root=root))
    manifest = build_manifest(
        infos,
        seed=seed,
        subset=subset,
        unseen_files=list_unseen_recordings(unseen_dir),
        data_root=root)
    return write_manifest(manifest, str(path))


def _tree(folder):
    """Relative path -> bytes of every file under ``folder``."""
    out = {}
    for top, _, names in os.walk(folder):
        for name in names:
            path = osp.join(top, name)
            out[osp.relpath(path, folder)] = open(path, 'rb').read()
    return out


@pytest.fixture(scope='module')
def s4_export(synth_source, unseen_dir, tmp_path_factory):
    """A manifest of the tiny S4 tree and its export (all splits, all negatives)."""
    work = tmp_path_factory.mktemp('export')
    manifest = _manifest(synth_source, 's4', unseen_dir, work / 'manifest.json')
    summary = export_robust_audio(
        synth_source,
        's4',
        manifest_path=manifest,
        out_dir=str(work / 'out'),
        unseen_dir=unseen_dir,
        progress=False)
    return manifest, summary


def test_layout_and_meta(s4_export):
    manifest_path, summary = s4_export
    manifest = json.load(open(manifest_path))
    out = summary['out_dir']
    expected = {'robust_meta.json'}
    for condition in NEGATIVES:
        for split, videos in manifest['videos'].items():
            for vid, record in videos.items():
                category = record['category']
                expected.add(f'{condition}/s4_data/audio_wav/{split}/{category}/{vid}.wav')
                expected.add(f'{condition}/s4_data/audio_log_mel/{split}/{category}/{vid}.pkl')
    assert set(_tree(out)) == expected  # nothing else, no temporary file left
    assert summary['written'] == 4 * 22 and summary['skipped'] == 0
    meta = json.load(open(summary['meta']))
    assert meta['format'] == 'mmavs-avsbench-robust-audio' and meta['subset'] == 's4'
    assert meta['manifest']['sha256'] == file_sha256(manifest_path)
    assert meta['manifest']['seed'] == 42 and meta['splits'] == ['train', 'val', 'test']
    assert meta['layout']['wav'] == '<condition>/s4_data/audio_wav/<split>/<category>/<name>.wav'
    vid, record = sorted(manifest['videos']['test'].items())[0]
    files = meta['files']
    assert files['silence']['test'][vid] == 'silence'
    assert files['offscreen']['test'][vid] == f'offscreen:{record["offscreen"]["video_id"]}'
    noise = record['noise']
    assert files['noise']['test'][vid] == (f'noise:{noise["type"]}:seed={noise["seed"]}:'
                                           f'dbfs={noise["dbfs"]}')
    assert files['unseen']['test'][vid] == f'unseen:{record["unseen"]["file"]}'


def test_pkl_is_the_featurisation_of_the_wav_and_the_wav_what_the_test_set_plays(
        s4_export, synth_source, unseen_dir):
    manifest_path, summary = s4_export
    test_set = RobustTestDataset(
        dict(
            type='AVSBenchS4Dataset',
            data_root=synth_source,
            split='test',
            pipeline=s4_pipeline(),
            test_mode=True),
        conditions=('positive', ) + NEGATIVES,
        manifest_path=manifest_path,
        unseen_dir=unseen_dir)
    num = len(test_set.dataset)
    pipeline = test_set.dataset.pipeline.transforms[0]  # AddNegativeAudio
    for c, condition in enumerate(NEGATIVES, start=1):
        for index in (0, 5, num - 1):  # frames of three videos
            info = test_set.get_data_info(c * num + index)
            wav, pkl = (
                osp.join(summary['out_dir'], p)
                for p in clip_paths('s4', condition, 'test', info['category'], info['video_id']))
            heard, sr = load_audio(wav)
            assert sr == 16000
            cached = load_log_mel_cache(pkl)
            assert cached.shape == (5, 96, 64)
            assert torch.equal(cached, waveform_to_examples(heard, 16000, num_examples=5))
            played = pipeline(dict(info))['audio_waveform']
            assert len(heard) == len(played)
            # the wav holds the played waveform at 16 bits (exactly, for silence and donors)
            step = 1 / 32768
            assert np.abs(heard - played).max() <= (0 if condition in ('silence',
                                                                       'offscreen') else step / 2 +
                                                    1e-9)
            if condition == 'offscreen':  # the donor's own positive features
                donor = osp.join(
                    synth_source,
                    test_set.records['test'][info['video_id']]['offscreen']['audio_path'])
                donor_wave, _ = load_audio(donor)
                assert torch.equal(cached, waveform_to_examples(donor_wave, 16000, 5))


def test_same_manifest_same_bytes_in_another_process(s4_export, synth_source, unseen_dir, tmp_path):
    manifest_path, summary = s4_export
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    out = subprocess.run([
        sys.executable,
        str(TOOL), synth_source, '--subset', 's4', '--manifest', manifest_path, '--out',
        str(tmp_path / 'again'), '--unseen-dir', unseen_dir, '--splits', 'test', '--no-progress'
    ],
                         capture_output=True,
                         text=True,
                         env=env,
                         cwd=str(REPO))
    assert out.returncode == 0, out.stderr[-3000:]
    assert '24 clips written' in out.stdout
    again, first = _tree(tmp_path / 'again'), _tree(summary['out_dir'])
    clips = [p for p in again if p != 'robust_meta.json']
    assert len(clips) == 48 and all(again[p] == first[p] for p in clips)


def test_resumes_and_refuses_another_export(s4_export, synth_source, unseen_dir, tmp_path):
    manifest_path, summary = s4_export
    out = tmp_path / 'out'
    shutil.copytree(summary['out_dir'], out)
    before = _tree(out)
    victim = out / 'noise' / 's4_data' / 'audio_log_mel'
    victim = next(victim.rglob('*.pkl'))
    victim.unlink()
    again = export_robust_audio(
        synth_source,
        's4',
        manifest_path=manifest_path,
        out_dir=str(out),
        unseen_dir=unseen_dir,
        progress=False)
    assert (again['written'], again['skipped']) == (1, 87)
    assert _tree(out) == before
    other = _manifest(synth_source, 's4', unseen_dir, tmp_path / 'seed7.json', seed=7)
    with pytest.raises(ExportError, match='another manifest or other options'):
        export_robust_audio(
            synth_source,
            's4',
            manifest_path=other,
            out_dir=str(out),
            unseen_dir=unseen_dir,
            progress=False)


def test_missing_videos_and_donors_are_named(synth_root, unseen_dir, tmp_path):
    manifest_path = _manifest(synth_root, 's4', unseen_dir, tmp_path / 'm.json')
    manifest = json.load(open(manifest_path))
    vid, record = sorted(manifest['videos']['test'].items())[0]
    ghost = dict(next(iter(manifest['videos']['test'].values())))
    manifest['videos']['test']['ghost_video'] = ghost
    write_manifest(manifest, str(tmp_path / 'ghost.json'))
    with pytest.raises(ManifestError, match=r"\['ghost_video'\]"):
        export_robust_audio(
            synth_root,
            's4',
            manifest_path=str(tmp_path / 'ghost.json'),
            out_dir=str(tmp_path / 'o1'),
            unseen_dir=unseen_dir,
            progress=False)
    donor_wav = osp.join(synth_root, record['offscreen']['audio_path'])
    os.remove(donor_wav)  # the dataset check names the donor video and its file
    with pytest.raises(FileNotFoundError, match=record['offscreen']['video_id']):
        export_robust_audio(
            synth_root,
            's4',
            manifest_path=manifest_path,
            out_dir=str(tmp_path / 'o2'),
            unseen_dir=unseen_dir,
            progress=False)
    # with a log-mel cache the dataset is complete, but the donor's wav is still needed
    pkl = donor_wav.replace('audio_wav', 'audio_log_mel')[:-len('.wav')] + '.pkl'
    save_log_mel_cache(pkl, torch.zeros(5, 96, 64))
    with pytest.raises(AudioLoadError, match=f"offscreen audio of video '{vid}'"):
        export_robust_audio(
            synth_root,
            's4',
            manifest_path=manifest_path,
            out_dir=str(tmp_path / 'o2'),
            conditions=('offscreen', ),
            splits=('test', ),
            unseen_dir=unseen_dir,
            progress=False)


def test_ms3_layout(synth_source, unseen_dir, tmp_path):
    manifest = _manifest(synth_source, 'ms3', unseen_dir, tmp_path / 'ms3.json')
    summary = export_robust_audio(
        synth_source,
        'ms3',
        manifest_path=manifest,
        out_dir=str(tmp_path / 'out'),
        conditions=('silence', ),
        splits=('test', ),
        unseen_dir=unseen_dir,
        progress=False)
    vids = sorted(json.load(open(manifest))['videos']['test'])
    assert set(_tree(summary['out_dir'])) == {'robust_meta.json'} | {
        f'silence/ms3_data/audio_{kind}/test/{vid}.{ext}'
        for vid in vids
        for kind, ext in (('wav', 'wav'), ('log_mel', 'pkl'))
    }
    with pytest.raises(ManifestError, match="subset 's4'"):
        export_robust_audio(synth_source, 's4', manifest_path=manifest, progress=False)
