# Copyright (c) mmavs contributors. All rights reserved.
"""tools/infer.py end to end: frames + wav, a video without audio track, gating, errors."""
import csv

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmavs_testing import ROBUST_S4
from mmavs_testing.cli import REPO, load_tool, run_tool

CONFIG = ROBUST_S4
S4 = 'Single-source/s4_data'

pytestmark = pytest.mark.usefixtures('one_torch_thread')


@pytest.fixture(scope='module')
def infer_tool():
    return load_tool('tools/infer.py')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Random tiny-model checkpoints: without gate meta, and with ``meta['gate_thr'] = 1``."""
    from mmavs.apis import init_model
    torch.manual_seed(0)
    state = init_model(CONFIG).state_dict()
    root = tmp_path_factory.mktemp('infer_ckpt')
    plain, gated = root / 'plain.pth', root / 'gated.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=0)), plain)
    torch.save(dict(state_dict=state, meta=dict(epoch=0, gate_thr=1.0)), gated)
    return plain, gated


@pytest.fixture(scope='module')
def clip(tiny_synth_root):
    """Frames folder and wav of one SynthAVS test video."""
    frames = sorted((tiny_synth_root / S4 / 'visual_frames' / 'test').glob('*/*'))[0]
    wav = tiny_synth_root / S4 / 'audio_wav' / 'test' / frames.parent.name / f'{frames.name}.wav'
    return frames, wav


@pytest.fixture(scope='module')
def silent_video(tmp_path_factory):
    """A 3.2 s MJPG video at 12.5 fps, no audio track (as OpenCV writes them)."""
    path = tmp_path_factory.mktemp('infer_video') / 'clip.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 12.5, (80, 60))
    rng = np.random.default_rng(0)
    for _ in range(40):
        writer.write(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))
    writer.release()
    return path


def read_scores(out_dir):
    with open(out_dir / 'scores.csv') as f:
        return list(csv.DictReader(f))


def test_frames_and_wav_through_the_cli(tmp_path, checkpoints, clip):
    frames, wav = clip
    out = tmp_path / 'out'
    proc = run_tool([
        REPO / 'tools/infer.py', CONFIG, checkpoints[0], '--frames', frames, '--audio', wav,
        '--out-dir', out
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = sorted(p.stem for p in frames.glob('*.png'))
    assert sorted(p.stem for p in (out / 'masks').glob('*.png')) == names
    assert sorted(p.stem for p in (out / 'overlays').glob('*.png')) == names
    for name in names:
        mask = np.asarray(Image.open(out / 'masks' / f'{name}.png'))
        assert mask.shape == np.asarray(Image.open(frames / f'{name}.png')).shape[:2]
        assert set(np.unique(mask)) <= {0, 255}
    with Image.open(out / 'overlay.gif') as gif:
        assert gif.n_frames == len(names)
    rows = read_scores(out)
    assert [int(r['audio_second']) for r in rows] == [0, 1, 2, 3, 4]
    for r in rows:
        assert 0 <= float(r['similarity']) <= 1
        assert f'{float(r["similarity"]):.4f}' in proc.stdout
    assert 'gating: off' in proc.stdout


def test_video_without_audio_track_is_processed_as_silence(tmp_path, capsys, infer_tool,
                                                           checkpoints, silent_video):
    out = tmp_path / 'video'
    infer_tool.main([
        str(CONFIG),
        str(checkpoints[0]), '--video',
        str(silent_video), '--fps', '2', '--out-dir',
        str(out), '--anim', 'mp4'
    ])
    printed = capsys.readouterr().out
    assert 'has no audio track' in printed and 'silence' in printed
    rows = read_scores(out)
    assert [float(r['time_s']) for r in rows] == [0, 0.5, 1, 1.5, 2, 2.5, 3]
    assert [int(r['audio_second']) for r in rows] == [0, 0, 1, 1, 2, 2, 3]
    cap = cv2.VideoCapture(str(out / 'overlay.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(rows)
    cap.release()
    # The same frames with the audio track explicitly ignored: identical scores.
    infer_tool.main([
        str(CONFIG),
        str(checkpoints[0]), '--video',
        str(silent_video), '--fps', '2', '--out-dir',
        str(tmp_path / 'muted'), '--no-audio', '--anim', 'none'
    ])
    assert read_scores(tmp_path / 'muted') == rows
    assert not (tmp_path / 'muted' / 'overlay.gif').exists()


def test_gate_threshold_comes_from_the_checkpoint_meta(tmp_path, capsys, infer_tool, checkpoints,
                                                       clip):
    frames, wav = clip
    args = [str(CONFIG), str(checkpoints[1]), '--frames', str(frames), '--audio', str(wav)]
    gated = infer_tool.main(args + ['--out-dir', str(tmp_path / 'gated')])
    assert 'similarity >= 1' in capsys.readouterr().out
    assert all(r['gated'] and r['mask_area'] == 0 for r in gated)
    for mask in (tmp_path / 'gated' / 'masks').glob('*.png'):
        assert np.asarray(Image.open(mask)).max() == 0
    # --gate-thr overrides the checkpoint: a threshold of 0 keeps every mask.
    kept = infer_tool.main(args + ['--out-dir', str(tmp_path / 'kept'), '--gate-thr', '0'])
    assert not any(r['gated'] for r in kept)
    assert sum(r['mask_area'] for r in kept) > 0


def _fails(infer_tool, capsys, argv, *expected):
    with pytest.raises(SystemExit) as exc:
        infer_tool.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, err


def test_unreadable_inputs_are_named(tmp_path, capsys, infer_tool, checkpoints, clip):
    frames, wav = clip
    base = [str(CONFIG), str(checkpoints[0]), '--out-dir', str(tmp_path / 'o')]
    bad_video = tmp_path / 'broken.mp4'
    bad_video.write_bytes(b'not a video' * 100)
    _fails(infer_tool, capsys, base + ['--video', str(bad_video)], 'broken.mp4')
    _fails(infer_tool, capsys, base + ['--frames', str(tmp_path / 'no_frames')], 'no_frames')
    bad_wav = tmp_path / 'corrupt.wav'
    bad_wav.write_bytes(b'RIFF\x00\x00\x00\x00WAVEgarbage')
    _fails(infer_tool, capsys, base +
           ['--frames', str(frames), '--audio', str(bad_wav)], 'corrupt.wav')
    bad_frames = tmp_path / 'frames'
    bad_frames.mkdir()
    (bad_frames / 'f_1.png').write_bytes(b'not a png')
    _fails(infer_tool, capsys, base + ['--frames', str(bad_frames)], 'f_1.png')


def test_audio_track_without_pyav_asks_for_a_wav(tmp_path, capsys, monkeypatch, infer_tool,
                                                 checkpoints, silent_video):
    monkeypatch.setattr(infer_tool, 'pyav_available', lambda: False)
    monkeypatch.setattr(infer_tool, 'probe_audio_track', lambda path: True)
    _fails(infer_tool, capsys, [
        str(CONFIG),
        str(checkpoints[0]), '--video',
        str(silent_video), '--out-dir',
        str(tmp_path / 'o')
    ], 'clip.avi has an audio track', '--audio', '--no-audio')


def test_decoded_audio_track_is_used(tmp_path, capsys, monkeypatch, infer_tool, checkpoints,
                                     silent_video):
    """With PyAV, the decoded track is heard (the decoder is replaced by a noise waveform)."""
    noise = np.random.default_rng(0).normal(0, 0.3, 4 * 16000).clip(-1, 1).astype(np.float32)
    monkeypatch.setattr(infer_tool, 'pyav_available', lambda: True)
    monkeypatch.setattr(infer_tool, 'read_video_audio', lambda path: noise)
    args = [str(CONFIG), str(checkpoints[0]), '--video', str(silent_video), '--anim', 'none']
    infer_tool.main(args + ['--out-dir', str(tmp_path / 'track')])
    assert f'audio: audio track of {silent_video}' in capsys.readouterr().out
    infer_tool.main(args + ['--out-dir', str(tmp_path / 'muted'), '--no-audio'])
    heard = [float(r['similarity']) for r in read_scores(tmp_path / 'track')]
    muted = [float(r['similarity']) for r in read_scores(tmp_path / 'muted')]
    assert len(heard) == len(muted) == 4 and heard != muted


def test_audio_ending_before_the_last_frame_warns(infer_tool):
    wave = np.zeros(16000 * 2, np.float32)
    with pytest.warns(UserWarning, match=r'lasts 2\.000 s, but the frames reach 4\.00 s'):
        infer_tool.warn_audio_coverage(wave, 16000, [0.0, 2.0, 4.0], 'clip.wav')
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        infer_tool.warn_audio_coverage(np.zeros(16000 * 5, np.float32), 16000, [4.0], 'clip.wav')


def test_overlays_carry_the_decision_and_grid_adds_panels(tmp_path, infer_tool, checkpoints, clip):
    frames, wav = clip
    args = [str(CONFIG), str(checkpoints[1]), '--frames', str(frames), '--audio', str(wav)]
    infer_tool.main(args + ['--out-dir', str(tmp_path / 'plain'), '--anim', 'none'])
    infer_tool.main(args + ['--out-dir', str(tmp_path / 'grid'), '--anim', 'none', '--grid'])
    name = sorted(p.name for p in frames.glob('*.png'))[0]
    plain = np.asarray(Image.open(tmp_path / 'plain' / 'overlays' / name))
    grid = np.asarray(Image.open(tmp_path / 'grid' / 'overlays' / name))
    frame_h = 320  # 64 px frames are enlarged to 320 px wide
    assert plain.shape[1] == frame_h and plain.shape[0] > frame_h  # a header above the frame
    # gated by the checkpoint's threshold 1: the header's decision is drawn in the gated colour
    from mmavs.visualization.overlays import GATED_COLOR
    header = plain[:plain.shape[0] - frame_h].astype(int)
    assert (np.abs(header - np.asarray(GATED_COLOR)).max(axis=2) < 30).any()
    assert grid.shape[1] > 2 * 256  # frame | mask | log-mel
