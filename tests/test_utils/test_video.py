# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs.apis.video: frames of folders and videos, audio-track probing."""
import struct

import cv2
import numpy as np
import pytest

from mmavs.utils.image import read_frame
from mmavs.utils.video import list_frame_files, probe_audio_track, read_video_frames


def write_video(path, num_frames, fps, fourcc='MJPG', size=(48, 64)):
    """A video whose frame ``i`` is uniformly grey at level ``8 * i``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (size[1], size[0]))
    assert writer.isOpened()
    for i in range(num_frames):
        writer.write(np.full(size + (3, ), 8 * i, np.uint8))
    writer.release()
    return path


def _levels(frames):
    return [int(round(float(f.mean()) / 8)) for f in frames]


@pytest.mark.parametrize('fourcc,ext', [('MJPG', 'avi'), ('mp4v', 'mp4')])
def test_video_is_sampled_at_one_frame_per_second_of_its_timestamps(tmp_path, fourcc, ext):
    path = write_video(tmp_path / f'v.{ext}', num_frames=25, fps=10, fourcc=fourcc)
    frames, times, info = read_video_frames(str(path), fps=1)
    assert times == [0.0, 1.0, 2.0]
    assert _levels(frames) == [0, 10, 20]
    assert frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert info['num_decoded'] == 25 and info['native_fps'] == pytest.approx(10)
    assert info['duration'] == pytest.approx(2.5)


def test_other_sampling_rates_and_frame_rates(tmp_path):
    path = write_video(tmp_path / 'v.avi', num_frames=30, fps=12.5)  # 2.4 s
    frames, times, _ = read_video_frames(str(path), fps=2)
    assert times == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert _levels(frames) == [0, 6, 12, 19, 25]  # frames nearest to t at 12.5 fps (0.08 s)
    # Above the native rate a frame stands for several sampling times.
    frames, times, _ = read_video_frames(str(path), fps=25)
    assert len(frames) == 60
    assert _levels(frames[:4]) == [0, 0, 1, 1]
    frames, _, _ = read_video_frames(str(path), fps=1, max_frames=2)
    assert len(frames) == 2


def test_unreadable_or_missing_video_names_the_file(tmp_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'not a video' * 50)
    with pytest.raises(ValueError, match='broken.mp4'):
        read_video_frames(str(bad))
    with pytest.raises(FileNotFoundError, match='missing.avi'):
        read_video_frames(str(tmp_path / 'missing.avi'))


def test_frames_folder_is_listed_in_natural_order(tmp_path):
    for i in (1, 2, 10, 3):
        cv2.imwrite(str(tmp_path / f'clip_{i}.png'), np.zeros((4, 4, 3), np.uint8))
    (tmp_path / 'notes.txt').write_text('not a frame')
    names = [p.rsplit('/', 1)[1] for p in list_frame_files(str(tmp_path))]
    assert names == ['clip_1.png', 'clip_2.png', 'clip_3.png', 'clip_10.png']


def test_bad_frame_folders_and_files_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere'):
        list_frame_files(str(tmp_path / 'nothere'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='empty'):
        list_frame_files(str(tmp_path / 'empty'))
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'\xff\xd8garbage')
    with pytest.raises(ValueError, match='bad.jpg'):
        read_frame(str(bad))
    grey = tmp_path / 'grey.png'
    cv2.imwrite(str(grey), np.full((5, 7), 100, np.uint8))
    assert read_frame(str(grey)).shape == (5, 7, 3)


# ---------------------------------------------------------------------------- audio probing
def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack('<I', len(payload)) + payload + b'\0' * (len(payload) & 1)


def _avi(stream_types) -> bytes:
    strls = b''.join(
        _riff_chunk(b'LIST', b'strl' + _riff_chunk(b'strh', kind + bytes(52)))
        for kind in stream_types)
    hdrl = _riff_chunk(b'LIST', b'hdrl' + _riff_chunk(b'avih', bytes(56)) + strls)
    body = b'AVI ' + hdrl + _riff_chunk(b'LIST', b'movi')
    return b'RIFF' + struct.pack('<I', len(body)) + body


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack('>I', 8 + len(payload)) + kind + payload


def _mp4(handlers) -> bytes:
    traks = b''.join(
        _box(b'trak', _box(b'mdia', _box(b'hdlr',
                                         bytes(8) + h + bytes(12) + b'\0'))) for h in handlers)
    return _box(b'ftyp', b'isom' + bytes(4)) + _box(b'mdat', bytes(32)) + _box(b'moov', traks)


def test_probe_finds_audio_tracks_in_avi_and_mp4_headers(tmp_path):
    cases = {
        'video_audio.avi': (_avi([b'vids', b'auds']), True),
        'video_only.avi': (_avi([b'vids']), False),
        'video_audio.mp4': (_mp4([b'vide', b'soun']), True),
        'video_only.mp4': (_mp4([b'vide']), False),
        'unknown.mkv': (b'\x1aE\xdf\xa3' + bytes(64), None),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert probe_audio_track(str(path)) is expected, name


def test_probe_of_videos_written_by_opencv_finds_no_audio(tmp_path):
    for fourcc, ext in (('MJPG', 'avi'), ('mp4v', 'mp4')):
        path = write_video(tmp_path / f'v.{ext}', num_frames=3, fps=5, fourcc=fourcc)
        assert probe_audio_track(str(path)) is False


class _FakeFrame:

    def __init__(self, samples, time):
        self.samples, self.time = samples, time

    def to_ndarray(self):
        return self.samples[None]  # packed mono: [1, n]


class _FakeContainer:

    def __init__(self, frames):
        self.frames = frames
        self.streams = type('Streams', (), {'audio': ['a0'] if frames is not None else []})()
        self.closed = False

    def decode(self, stream):
        assert stream == 'a0'
        return iter(self.frames)

    def close(self):
        self.closed = True


def test_audio_track_is_decoded_with_pyav_when_installed(monkeypatch):
    """The PyAV glue with a stand-in ``av`` module: chunks joined, a late start padded."""
    import sys
    import types
    chunks = [np.full(4, 0.5, np.float32), np.full(3, -2.0, np.float32)]
    containers = {
        'late.mp4':
        _FakeContainer([_FakeFrame(c, 0.25 if i == 0 else 0.5) for i, c in enumerate(chunks)]),
        'mute.mp4':
        _FakeContainer(None)
    }

    class Resampler:

        def __init__(self, format, layout, rate):
            assert (format, layout, rate) == ('flt', 'mono', 16)

        def resample(self, frame):
            return [] if frame is None else [frame]

    fake = types.SimpleNamespace(
        open=lambda path: containers[path],
        AudioResampler=Resampler,
        error=types.SimpleNamespace(FFmpegError=OSError))
    monkeypatch.setitem(sys.modules, 'av', fake)
    from mmavs.utils.video import pyav_available, read_video_audio
    assert pyav_available()
    wave = read_video_audio('late.mp4', target_sr=16)
    # 0.25 s of leading silence at 16 Hz, then the chunks; clipped to [-1, 1].
    assert wave.tolist() == [0.0] * 4 + [0.5] * 4 + [-1.0] * 3
    assert containers['late.mp4'].closed
    assert read_video_audio('mute.mp4', target_sr=16) is None
