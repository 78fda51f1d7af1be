# Copyright (c) mmavs contributors. All rights reserved.
"""The robust manifest: group rules over whole manifests, determinism, format, the tool."""
import json
import os.path as osp
import random

import pytest

from mmavs.datasets.categories import AVSBENCH_S4_GROUPS, CATEGORY_GROUPS, SYNTH_CATEGORY_GROUPS
from mmavs.datasets.robust import is_valid_donor
from mmavs.datasets.robust.manifest import (MANIFEST_FORMAT, ManifestError, build_manifest,
                                            default_manifest_path, load_manifest, manifest_to_json,
                                            missing_records, write_manifest)
from mmavs_testing.robust import run_tool


def fake_infos(table, per_category=(8, 2, 2), root='/data'):
    """split -> video infos covering every category of ``table``."""
    infos = {}
    for split, count in zip(('train', 'val', 'test'), per_category):
        infos[split] = [
            dict(
                video_id=f'{split}_{c}_{k}',
                category=c,
                audio_path=f'{root}/Single-source/s4_data/audio_wav/{split}/{c}/{c}_{k}.wav')
            for c in table for k in range(count)
        ]
    return infos


def check_rules(manifest, infos, groups):
    """Assert every off-screen donor of the manifest follows AVSBench-Robust."""
    checked = 0
    for split, records in manifest['videos'].items():
        categories = {i['video_id']: i['category'] for i in infos[split]}
        for vid, record in records.items():
            donor = record['offscreen']
            assert donor['video_id'] in categories and donor['video_id'] != vid
            assert donor['category'] == categories[donor['video_id']]
            if donor['rule'] == 'group':
                assert is_valid_donor(record['category'], donor['category'], groups)
            else:
                assert donor['category'] != record['category']
            checked += 1
    return checked


@pytest.mark.parametrize('table', [AVSBENCH_S4_GROUPS, SYNTH_CATEGORY_GROUPS])
def test_group_rules_hold_over_a_whole_manifest(table):
    infos = fake_infos(table)
    manifest = build_manifest(infos, seed=42, data_root='/data')
    assert check_rules(manifest, infos, CATEGORY_GROUPS) == sum(len(v) for v in infos.values())
    rules = {r['offscreen']['rule'] for s in manifest['videos'].values() for r in s.values()}
    assert rules == {'group'}


def test_manifest_is_byte_identical_for_the_same_seed_and_input_order():
    infos = fake_infos(AVSBENCH_S4_GROUPS)
    text = manifest_to_json(build_manifest(infos, seed=42, unseen_files=['b.wav', 'a.wav']))
    shuffled = {split: random.Random(1).sample(v, len(v)) for split, v in infos.items()}
    again = manifest_to_json(build_manifest(shuffled, seed=42, unseen_files=['a.wav', 'b.wav']))
    assert text == again
    assert text != manifest_to_json(build_manifest(infos, seed=43, unseen_files=['a.wav']))


def test_manifest_records_noise_unseen_and_relative_donor_paths():
    infos = fake_infos(SYNTH_CATEGORY_GROUPS, per_category=(3, 1, 1))
    manifest = build_manifest(
        infos,
        seed=7,
        noise_types=['white', 'brown'],
        noise_dbfs=-30,
        unseen_files=['x.wav', 'y.wav', 'z.wav'],
        data_root='/data')
    assert manifest['format'] == MANIFEST_FORMAT and manifest['seed'] == 7
    assert manifest['arguments']['noise_dbfs'] == -30.0
    assert manifest['fingerprint']['num_videos'] == {'train': 36, 'val': 12, 'test': 12}
    train = manifest['videos']['train'].values()
    types = [r['noise']['type'] for r in train]
    assert sorted(set(types)) == ['brown', 'white'] and types.count('white') == 18
    assert len({r['noise']['seed'] for r in train}) == 36
    files = [r['unseen']['file'] for r in train]
    assert {files.count(f) for f in ('x.wav', 'y.wav', 'z.wav')} == {12}
    for record in train:
        assert record['offscreen']['audio_path'].startswith('Single-source/s4_data/audio_wav/')
    bare = build_manifest(infos, seed=7)
    assert bare['unseen_files'] == [] and all(r['unseen'] is None
                                              for r in bare['videos']['test'].values())


def test_ms3_videos_take_any_other_video_of_their_split():
    infos = {
        split: [
            dict(video_id=f'{split}{k}', category='multi', audio_path=f'{split}{k}.wav')
            for k in range(4)
        ]
        for split in ('train', 'test')
    }
    manifest = build_manifest(infos, subset='ms3')
    for split, records in manifest['videos'].items():
        for vid, record in records.items():
            assert record['offscreen']['rule'] == 'other_video'
            assert record['offscreen']['video_id'] != vid
            assert record['offscreen']['video_id'].startswith(split)


def test_manifest_round_trip_and_errors(tmp_path):
    manifest = build_manifest(fake_infos(AVSBENCH_S4_GROUPS, (1, 1, 1)), seed=1)
    path = write_manifest(manifest, str(tmp_path / 'sub' / 'm.json'))
    assert load_manifest(path) == manifest
    assert missing_records(manifest, {'test': ['test_dog_barking_0', 'nope']}) == ['test/nope']
    with pytest.raises(ManifestError, match='not found.*run me'):
        load_manifest(str(tmp_path / 'absent.json'), hint='run me')
    (tmp_path / 'other.json').write_text(json.dumps(dict(format='x', version=9)))
    with pytest.raises(ManifestError, match='found format .x. version 9'):
        load_manifest(str(tmp_path / 'other.json'))
    assert default_manifest_path('root', 'ms3', 5) == osp.join('root', 'Multi-sources',
                                                               'robust_manifest_ms3_seed5.json')


def test_tool_writes_identical_manifests_on_synth_avs(synth_root, unseen_dir, tmp_path,
                                                      monkeypatch):
    out = str(tmp_path / 'again.json')
    assert run_tool([synth_root, '--subset', 's4', '--unseen-dir', unseen_dir], monkeypatch) == 0
    default = default_manifest_path(synth_root, 's4', 42)
    assert run_tool([synth_root, '--subset', 's4', '--unseen-dir', unseen_dir, '--out', out],
                    monkeypatch) == 0
    assert open(default, 'rb').read() == open(out, 'rb').read()
    manifest = load_manifest(default)
    assert manifest['unseen_files'] == ['chirp.wav', 'hum.wav']
    assert set(manifest['videos']) == {'train', 'val', 'test'}
    infos = {
        split: [dict(video_id=v, category=r['category']) for v, r in recs.items()]
        for split, recs in manifest['videos'].items()
    }
    check_rules(manifest, infos, CATEGORY_GROUPS)
    for split, records in manifest['videos'].items():
        for record in records.values():
            assert osp.isfile(osp.join(synth_root, record['offscreen']['audio_path']))
    assert run_tool([synth_root, '--subset', 's4', '--unseen-dir', unseen_dir, '--check'],
                    monkeypatch) == 0
    assert run_tool([synth_root, '--subset', 's4', '--no-unseen', '--check'], monkeypatch) == 1
    assert run_tool([synth_root, '--subset', 'ms3', '--seed', '3', '--no-unseen'], monkeypatch) == 0
    ms3 = load_manifest(default_manifest_path(synth_root, 'ms3', 3))
    assert ms3['subset'] == 'ms3' and ms3['seed'] == 3
