# Copyright (c) mmavs contributors. All rights reserved.
"""SynthAVS generator: layout, formats, determinism, resume/refuse, scene statistics."""
import csv
import filecmp
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from mmavs.audio import rms_dbfs
from mmavs.datasets.categories import SYNTH_CATEGORY_GROUPS
from mmavs.datasets.layout import MS3Layout, S4Layout
from mmavs.datasets.robust import is_valid_donor
from mmavs.synth import (CATEGORIES, MANIFEST_NAME, SOUND_FUNCTIONS, SynthAVSConfig,
                         generate_synth_avs, plan_videos, render_clip, sample_ms3_objects,
                         sample_s4_objects, synthesize_clip_audio, video_files)


def _all_files(root):
    out = []
    for dirpath, _, files in os.walk(root):
        out.extend(os.path.relpath(os.path.join(dirpath, f), root) for f in files)
    return sorted(out)


def test_generator_writes_the_avsbench_layout(tiny_root, tiny_cfg):
    root = str(tiny_root)
    with open(S4Layout(root).csv_path, newline='') as f:
        s4_rows = list(csv.reader(f))
    with open(MS3Layout(root).csv_path, newline='') as f:
        ms3_rows = list(csv.reader(f))
    assert s4_rows[0] == ['name', 'start_time', 'category', 'split']
    assert ms3_rows[0] == ['vid', 'split']
    assert len(s4_rows) - 1 == tiny_cfg.s4_train + tiny_cfg.s4_val + tiny_cfg.s4_test
    assert len(ms3_rows) - 1 == tiny_cfg.ms3_train + tiny_cfg.ms3_val + tiny_cfg.ms3_test
    for name, _, category, split in s4_rows[1:]:
        assert category in SYNTH_CATEGORY_GROUPS
        lay = S4Layout(root)
        assert os.path.isfile(lay.frame(split, category, name, 4))
        assert os.path.isfile(lay.mask(split, category, name, 0))
        # S4 train annotates only the first frame, like AVSBench
        assert os.path.isfile(lay.mask(split, category, name, 4)) == (split != 'train')
        assert os.path.isfile(lay.wav(split, category, name))
        assert not os.path.exists(lay.log_mel(split, category, name))  # caches: another tool
    for vid, split in ms3_rows[1:]:
        lay = MS3Layout(root)
        frame = lay.frame(split, None, vid, 0)
        assert frame.endswith(os.path.join('visual_frames', vid, f'{vid}.mp4_1.png'))
        assert os.path.isfile(frame)
        assert all(os.path.isfile(lay.mask(split, None, vid, i)) for i in range(5))
    manifest = json.loads((tiny_root / MANIFEST_NAME).read_text())
    assert manifest['args']['seed'] == tiny_cfg.seed and manifest['complete'] is True


def test_generated_files_have_the_avsbench_formats(tiny_root, tiny_cfg):
    task = plan_videos(tiny_cfg)[tiny_cfg.s4_train]  # an S4 val video
    files = video_files(str(tiny_root), task)
    frame = Image.open(files[0])
    assert frame.mode == 'RGB' and frame.size == (tiny_cfg.size, tiny_cfg.size)
    masks = [np.asarray(Image.open(p)) for p in files if '/gt_masks/' in p]
    assert len(masks) == 5
    for mask in masks:
        assert mask.shape == (tiny_cfg.size, tiny_cfg.size)
        assert set(np.unique(mask)) <= {0, 255} and mask.max() == 255
    info = sf.info(files[-1])
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, 'PCM_16',
                                                                           80000)
    audio, _ = sf.read(files[-1])
    assert -34 < rms_dbfs(audio) < -12


def test_generator_is_deterministic_and_seed_dependent(tmp_path):
    cfg = SynthAVSConfig(
        seed=3, s4_train=2, s4_val=1, s4_test=0, ms3_train=1, ms3_val=0, ms3_test=1, size=48)
    a, b, c = (str(tmp_path / n) for n in 'abc')
    generate_synth_avs(a, cfg, progress=False)
    generate_synth_avs(b, cfg, workers=2, progress=False)
    generate_synth_avs(c, SynthAVSConfig(**{**cfg.__dict__, 'seed': 4}), progress=False)
    files = _all_files(a)
    assert files == _all_files(b)
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == [] and errors == []
    media = [f for f in files if f.endswith(('.png', '.wav'))]
    _, mismatch_c, _ = filecmp.cmpfiles(a, c, media, shallow=False)
    assert len(mismatch_c) > len(media) // 2


def test_generator_resumes_and_refuses_other_arguments(tmp_path):
    cfg = SynthAVSConfig(
        seed=1, s4_train=2, s4_val=1, s4_test=1, ms3_train=1, ms3_val=1, ms3_test=1, size=48)
    root = str(tmp_path / 'root')
    assert generate_synth_avs(root, cfg, progress=False)['written'] == 7
    victim = video_files(root, plan_videos(cfg)[1])[2]
    original = open(victim, 'rb').read()
    os.remove(victim)
    summary = generate_synth_avs(root, cfg, progress=False)
    assert summary == dict(videos=7, written=1, skipped=6)
    assert open(victim, 'rb').read() == original
    other = SynthAVSConfig(**{**cfg.__dict__, 's4_train': 3})
    with pytest.raises(FileExistsError, match='s4_train: 2 on disk, 3 requested'):
        generate_synth_avs(root, other, progress=False)
    assert generate_synth_avs(root, other, overwrite=True, progress=False)['written'] == 8


def test_generator_refuses_a_tree_it_did_not_write(tmp_path):
    (tmp_path / 'Single-source').mkdir()
    with pytest.raises(FileExistsError, match='no synth_avs_manifest.json'):
        generate_synth_avs(
            str(tmp_path),
            SynthAVSConfig(
                s4_train=1, s4_val=0, s4_test=0, ms3_train=0, ms3_val=0, ms3_test=0, size=32),
            progress=False)


def test_s4_categories_are_balanced_per_split():
    cfg = SynthAVSConfig(s4_train=30, s4_val=12, s4_test=0, ms3_train=0, ms3_val=0, ms3_test=0)
    train = [t.category for t in plan_videos(cfg) if t.split == 'train']
    counts = [train.count(c) for c in CATEGORIES]
    assert max(counts) - min(counts) <= 1 and len(CATEGORIES) >= 8


def test_s4_sounding_object_is_usually_but_not_always_the_salient_one():
    rng = np.random.default_rng(0)
    salient, distractors = 0, 0
    n = 1000
    for i in range(n):
        objects = sample_s4_objects(CATEGORIES[i % len(CATEGORIES)], rng, 224)
        sounding = [o for o in objects if o.sounding]
        assert len(sounding) == 1 and sounding[0].category == CATEGORIES[i % len(CATEGORIES)]
        assert all(o.category != sounding[0].category for o in objects if not o.sounding)
        # no silent distractor could be the source of an off-screen donor's sound
        assert not any(
            is_valid_donor(sounding[0].category, o.category) for o in objects if not o.sounding)
        largest = max(objects, key=lambda o: o.poses[0].radius)
        salient += largest.sounding
        distractors += len(objects) - 1
    assert 0.95 * n < salient < 0.99 * n  # visual bias exists, and audio is sometimes needed
    assert distractors > 0.5 * n


def test_ms3_clips_have_two_or_three_objects_and_one_or_two_sounding():
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(100):
        objects = sample_ms3_objects(rng, 224)
        n_sounding = sum(o.sounding for o in objects)
        assert 2 <= len(objects) <= 3 and 1 <= n_sounding <= 2
        assert len({o.category for o in objects}) == len(objects)
        seen.add((len(objects), n_sounding))
    assert seen == {(2, 1), (2, 2), (3, 1), (3, 2)}


def test_masks_cover_exactly_the_visible_sounding_objects_and_objects_move():
    rng = np.random.default_rng(5)
    objects = sample_ms3_objects(rng, 96)
    clip = render_clip(objects, rng, 96)
    assert clip.frames.shape == (5, 96, 96, 3) and clip.masks.shape == (5, 96, 96)
    assert all(m.max() == 255 for m in clip.masks)
    assert not np.array_equal(clip.masks[0], clip.masks[4])  # motion across the 5 frames
    silent_only = [o for o in objects if not o.sounding]
    if silent_only:
        for o in objects:
            o.sounding = not o.sounding
        flipped = render_clip(objects, np.random.default_rng(5), 96)
        overlap = (flipped.masks > 0) & (clip.masks > 0)
        assert not overlap.any()  # a pixel belongs to one object only


def test_first_frame_poses_are_as_varied_as_the_last_frames():
    """S4 trains on frame 1 only: its poses must cover those of every test frame (anchor frame
    drawn per object, motion both ways), not be the narrowest of the clip."""
    rng = np.random.default_rng(0)
    angles = np.array([[p.angle for p in obj.poses] for _ in range(300)
                       for obj in sample_s4_objects('guitar', rng, 96)])  # [objects, 5]
    spread = angles.std(axis=0)
    assert spread[0] == pytest.approx(spread[4], rel=0.15)
    assert spread[0] > 1.1 * spread[2]


@pytest.mark.parametrize('category', sorted(SOUND_FUNCTIONS))
def test_every_category_sound_is_a_plausible_recording(category):
    for seed in (0, 1):
        audio = synthesize_clip_audio([category], np.random.default_rng(seed))
        assert audio.dtype == np.float32 and audio.shape == (80000, )
        assert np.isfinite(audio).all() and np.abs(audio).max() <= 0.99 + 1e-6
        assert -40 < rms_dbfs(audio) < -12
        # room noise: never digital silence, not even between events
        assert np.sqrt(np.mean(audio[-1600:]**2)) > 1e-5


def test_category_sounds_differ_in_spectrum():
    centroids = {}
    freqs = np.fft.rfftfreq(80000, 1 / 16000)
    for category, fn in SOUND_FUNCTIONS.items():
        spec = np.abs(np.fft.rfft(fn(np.random.default_rng(0), 80000, 16000)))**2
        centroids[category] = float((freqs * spec).sum() / spec.sum())
    values = sorted(centroids.values())
    assert len(set(np.round(values, -1))) == len(values)
    assert values[0] < 800 and values[-1] > 2500


def _tiny_synth(**kwargs):
    args = dict(
        seed=2, s4_train=1, s4_val=1, s4_test=0, ms3_train=1, ms3_val=0, ms3_test=0, size=32)
    args.update(kwargs)
    return SynthAVSConfig(**args)


def _files(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob('*') if p.is_file())


def test_overwrite_never_deletes_a_tree_without_the_marker(tmp_path):
    """A real AVSBench copy (no SynthAVS manifest) survives --overwrite untouched."""
    real = tmp_path / 'AVSBench'
    for rel in ('Single-source/s4_meta_data.csv', 'Single-source/s4_data/audio_log_mel/x.pkl',
                'Multi-sources/ms3_data/audio_wav/train/v.wav'):
        (real / rel).parent.mkdir(parents=True, exist_ok=True)
        (real / rel).write_bytes(b'user data')
    before = _files(real)
    with pytest.raises(FileExistsError, match='Nothing is deleted without the SynthAVS marker'):
        generate_synth_avs(str(real), _tiny_synth(), overwrite=True, progress=False)
    assert _files(real) == before


def test_overwrite_refuses_a_synth_root_holding_a_foreign_file(tmp_path):
    root = tmp_path / 'SynthAVS'
    generate_synth_avs(str(root), _tiny_synth(), progress=False)
    foreign = root / 'Single-source' / 's4_data' / 'my_notes.txt'
    foreign.write_text('mine')
    before = _files(root)
    with pytest.raises(FileExistsError, match='1 file.* not written by the SynthAVS generator'):
        generate_synth_avs(str(root), _tiny_synth(s4_train=2), overwrite=True, progress=False)
    assert _files(root) == before


def test_overwrite_replaces_its_own_files_and_derived_caches(tmp_path):
    root = tmp_path / 'SynthAVS'
    cfg = _tiny_synth()
    generate_synth_avs(str(root), cfg, progress=False)
    task = plan_videos(cfg)[0]
    cache = S4Layout(str(root)).log_mel(task.split, task.category, task.name)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    open(cache, 'wb').write(b'cache')
    (root / 'Single-source' / 'robust_manifest_s4_seed42.json').write_text('{}')
    other = _tiny_synth(s4_train=2, seed=5)
    assert generate_synth_avs(str(root), other, overwrite=True, progress=False)['written'] == 4
    assert not os.path.exists(cache)
    assert not (root / 'Single-source' / 'robust_manifest_s4_seed42.json').exists()
    expected = {
        os.path.relpath(p, root)
        for t in plan_videos(other)
        for p in video_files(str(root), t)
    }
    assert set(_files(root)) == expected | {
        'synth_avs_manifest.json', 'Single-source/s4_meta_data.csv',
        'Multi-sources/ms3_meta_data.csv'
    }
