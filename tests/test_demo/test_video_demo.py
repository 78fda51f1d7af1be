# Copyright (c) mmavs contributors. All rights reserved.
"""demo/video_demo.py: a SynthAVS clip as an MP4 with its audio track -> overlay video."""
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from PIL import Image

from mmavs.audio import load_audio
from mmavs_testing import ROBUST_S4
from mmavs_testing.cli import REPO, run_tool

S4 = 'Single-source/s4_data'


def write_av_clip(path, frames, waveform, fps=5, sample_rate=16000):
    """An MP4 (MPEG-4 video, AAC audio) of RGB frames shown one second each."""
    container = av.open(str(path), mode='w')
    video = container.add_stream('mpeg4', rate=Fraction(fps))
    video.height, video.width = frames[0].shape[:2]
    video.pix_fmt = 'yuv420p'
    audio = container.add_stream('aac', rate=sample_rate, layout='mono')
    for rgb in frames:
        for _ in range(fps):
            for packet in video.encode(av.VideoFrame.from_ndarray(rgb, format='rgb24')):
                container.mux(packet)
    for packet in video.encode():
        container.mux(packet)
    for start in range(0, len(waveform), 1024):
        frame = av.AudioFrame.from_ndarray(
            waveform[None, start:start + 1024].astype(np.float32), format='flt', layout='mono')
        frame.sample_rate, frame.pts = sample_rate, start
        for packet in audio.encode(frame):
            container.mux(packet)
    for packet in audio.encode():
        container.mux(packet)
    container.close()
    return path


@pytest.fixture(scope='module')
def av_clip(tiny_synth_root, tmp_path_factory):
    folder = sorted((tiny_synth_root / S4 / 'visual_frames' / 'test').glob('*/*'))[0]
    wav = tiny_synth_root / S4 / 'audio_wav' / 'test' / folder.parent.name / f'{folder.name}.wav'
    frames = [np.asarray(Image.open(p).convert('RGB')) for p in sorted(folder.glob('*.png'))]
    root = tmp_path_factory.mktemp('demo')
    torch.manual_seed(0)
    from mmavs.apis import init_model
    ckpt = root / 'tiny.pth'
    torch.save(dict(state_dict=init_model(ROBUST_S4).state_dict(), meta=dict(epoch=0)), ckpt)
    return write_av_clip(root / 'clip.mp4', frames, load_audio(wav)[0]), ckpt


def test_overlay_video_with_audio_and_similarity_curve(av_clip, tmp_path):
    video, ckpt = av_clip
    out = tmp_path / 'out.mp4'
    proc = run_tool([
        REPO / 'demo/video_demo.py', video, ROBUST_S4, ckpt, '--out', out, '--fps', '2',
        '--gate-thr', '0.5'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'heard: the audio track' in proc.stdout
    with av.open(str(out)) as container:
        assert container.streams.audio, 'the audio track is muxed back in'
        pictures = [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]
    assert len(pictures) == 10  # 5 s at 2 frames/s
    height, width = pictures[0].shape[:2]
    assert width == 320 and height > 320 + 96  # header + frame + similarity strip
    # the cursor of the similarity strip moves from left to right
    strips = [p[-80:-8].astype(int).sum(axis=2) for p in pictures]
    cursor = [int(np.argmax((s > 600).sum(axis=0))) for s in strips]
    assert cursor[0] < cursor[-1]
    # muted: no audio stream
    proc = run_tool([
        REPO / 'demo/video_demo.py', video, ROBUST_S4, ckpt, '--out', tmp_path / 'mute.mp4',
        '--fps', '1', '--mute'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with av.open(str(tmp_path / 'mute.mp4')) as container:
        assert not container.streams.audio
        assert sum(1 for _ in container.decode(video=0)) == 5
