# Copyright (c) mmavs contributors. All rights reserved.
"""Reading a user's own frames, video and audio track for inference.

* Frames of a folder: :func:`list_frame_files` (natural order, so ``x_2.png`` comes before
  ``x_10.png``) and :func:`read_frame` (OpenCV, BGR uint8 ``[H, W, 3]``).
* Frames of a video: :func:`read_video_frames` decodes with OpenCV (``cv2.VideoCapture``, its
  FFmpeg backend reads mp4/avi/mkv/...) and samples ``fps`` frames per second of the video's own
  timestamps: the sample of time ``t_k = k / fps`` is the first decoded frame whose timestamp is at
  least ``t_k - 0.5 / native_fps`` (the frame nearest to ``t_k`` at or after half a frame before).
  Any native frame rate and length work; a sampling rate above the native one repeats frames.
* The audio track of a video: :func:`read_video_audio` decodes it with PyAV (``av``) when that
  package is installed (mono mix, resampled by FFmpeg to 16 kHz float32). Without PyAV,
  :func:`probe_audio_track` still tells from the container's headers (MP4/MOV/M4V ``hdlr`` boxes,
  AVI ``strh`` chunks) whether the video *has* an audio track, so a video without one can be
  processed as silence; for a video with a track (or a container it cannot parse) the user must
  pass the audio as a wav.
"""
import os
import os.path as osp
import re
import struct
from typing import List, Optional, Tuple

import numpy as np

from .image import read_frame  # noqa: F401  (part of this module's API)

#: File extensions read as frames from a folder (lower case).
FRAME_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')


def natural_key(name: str) -> list:
    """Sort key splitting digits from text, so ``'f_2'`` sorts before ``'f_10'``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r'(\d+)', name)]


def list_frame_files(frames_dir: str) -> List[str]:
    """Image files of a folder (not recursive), in natural order.

    Raises:
        FileNotFoundError: ``frames_dir`` is not a folder.
        ValueError: The folder holds no file with an extension of :data:`FRAME_EXTENSIONS`.
    """
    if not osp.isdir(frames_dir):
        raise FileNotFoundError(f'frames folder not found: {frames_dir}')
    names = [
        n for n in os.listdir(frames_dir)
        if n.lower().endswith(FRAME_EXTENSIONS) and osp.isfile(osp.join(frames_dir, n))
    ]
    if not names:
        raise ValueError(f'expected image files ({", ".join(FRAME_EXTENSIONS)}) in the frames '
                         f'folder, found none in {frames_dir}')
    return [osp.join(frames_dir, n) for n in sorted(names, key=natural_key)]


def read_video_frames(
        path: str,
        fps: float = 1.0,
        max_frames: Optional[int] = None) -> Tuple[List[np.ndarray], List[float], dict]:
    """Decode a video and sample ``fps`` frames per second of its timestamps.

    Args:
        path (str): Video file (anything OpenCV's FFmpeg backend reads: mp4, avi, mkv, mov...).
        fps (float): Samples per second of video. Defaults to 1 (one frame per second, the
            AVSBench convention).
        max_frames (int, optional): Stop after this many samples.

    Returns:
        tuple: ``(frames, times, info)``: BGR uint8 ``[H, W, 3]`` frames; their sampling times
        ``t_k = k / fps`` in seconds; ``info`` with ``native_fps``, ``num_decoded`` (frames
        decoded) and ``duration`` (seconds, the last decoded frame's timestamp plus one frame).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: OpenCV cannot open the file, or no frame can be decoded; the message names
            the file.
    """
    import cv2
    if fps <= 0:
        raise ValueError(f'expected fps > 0, found {fps}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'video not found: {path}')
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise ValueError(f'cannot open the video {path} (unreadable or unsupported format)')
    native_fps = cap.get(cv2.CAP_PROP_FPS)
    native_fps = native_fps if native_fps and native_fps > 0 and native_fps < 1000 else None
    half_frame = 0.5 / native_fps if native_fps else 0.0
    frames, times = [], []
    index, last_ts, step = 0, -1.0, 1.0 / fps
    try:
        while cap.grab():
            ts = _frame_timestamp(cap, index, native_fps, last_ts)
            last_ts, index = ts, index + 1
            target = len(times) * step
            if ts < target - half_frame - 1e-9:
                continue
            ok, frame = cap.retrieve()
            if not ok or frame is None:
                raise ValueError(f'cannot decode frame {index - 1} (t = {ts:.3f} s) of {path}')
            # A frame may stand for several sampling times when fps exceeds the native rate.
            while ts >= target - half_frame - 1e-9:
                frames.append(frame)
                times.append(target)
                if max_frames is not None and len(frames) >= max_frames:
                    break
                target = len(times) * step
            if max_frames is not None and len(frames) >= max_frames:
                break
    finally:
        cap.release()
    if index == 0:
        raise ValueError(f'no frame could be decoded from the video {path}')
    duration = last_ts + (1.0 / native_fps if native_fps else 0.0)
    return frames, times, dict(native_fps=native_fps, num_decoded=index, duration=duration)


def _frame_timestamp(cap, index: int, native_fps: Optional[float], last_ts: float) -> float:
    """Timestamp (s) of the frame just grabbed: the container's, else ``index / fps``."""
    import cv2
    ts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
    if ts > last_ts or (index == 0 and ts >= 0):
        return ts
    if native_fps:
        return index / native_fps
    return last_ts + 1.0


# ---------------------------------------------------------------------------- audio track
def pyav_available() -> bool:
    """Whether PyAV (``import av``) is installed."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _iter_boxes(data: bytes, start: int, end: int):
    """ISO BMFF boxes ``(type, payload_start, payload_end)`` in ``data[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack('>I4s', data[pos:pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack('>Q', data[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _mp4_has_audio(data: bytes) -> Optional[bool]:
    """Whether an MP4/MOV file has a track with handler ``soun``; None without ``moov``."""
    found_moov = False

    def walk(start: int, end: int) -> bool:
        for kind, p0, p1 in _iter_boxes(data, start, end):
            if kind in (b'trak', b'mdia'):
                if walk(p0, p1):
                    return True
            elif kind == b'hdlr' and p1 - p0 >= 12 and data[p0 + 8:p0 + 12] == b'soun':
                return True
        return False

    for kind, p0, p1 in _iter_boxes(data, 0, len(data)):
        if kind == b'moov':
            found_moov = True
            if walk(p0, p1):
                return True
    return False if found_moov else None


def _avi_has_audio(data: bytes) -> Optional[bool]:
    """Whether an AVI (RIFF) file has a stream header of type ``auds``; None without ``hdrl``."""

    def chunks(start: int, end: int):
        pos = start
        while pos + 8 <= end:
            kind, size = struct.unpack('<4sI', data[pos:pos + 8])
            yield kind, pos + 8, min(pos + 8 + size, end)
            pos += 8 + size + (size & 1)

    for kind, p0, p1 in chunks(12, len(data)):
        if kind == b'LIST' and data[p0:p0 + 4] == b'hdrl':
            for kind2, q0, q1 in chunks(p0 + 4, p1):
                if kind2 == b'LIST' and data[q0:q0 + 4] == b'strl':
                    for kind3, r0, _ in chunks(q0 + 4, q1):
                        if kind3 == b'strh' and data[r0:r0 + 4] == b'auds':
                            return True
            return False
    return None


def probe_audio_track(path: str, max_bytes: int = 64 << 20) -> Optional[bool]:
    """Tell from the container headers whether a video has an audio track (no decoding).

    Parses MP4/MOV/M4V/3GP (``moov/trak/mdia/hdlr`` with handler ``soun``) and AVI
    (``hdrl/strl/strh`` with type ``auds``), reading at most ``max_bytes`` of the file.

    Returns:
        bool | None: True / False, or None when the format is not one of these or its headers
        are not found in the bytes read.
    """
    with open(path, 'rb') as f:
        data = f.read(max_bytes)
    if data[:4] == b'RIFF' and data[8:12] == b'AVI ':
        return _avi_has_audio(data)
    if data[4:8] in (b'ftyp', b'moov', b'mdat', b'free', b'wide', b'skip'):
        return _mp4_has_audio(data)
    return None


def read_video_audio(path: str, target_sr: int = 16000) -> Optional[np.ndarray]:
    """Decode the first audio track of a video with PyAV: mono float32 ``[T]`` at ``target_sr``.

    Returns None when the video has no audio track. A track starting after the video start is
    preceded by silence (its first frame's time), so sample ``n`` is at ``n / target_sr`` s of
    the video.

    Raises:
        ImportError: PyAV is not installed.
        ValueError: PyAV cannot open or decode the file; the message names it.
    """
    import av

    # PyAV raises av.error.FFmpegError subclasses (also OSError / ValueError subclasses).
    av_errors = (getattr(getattr(av, 'error', None), 'FFmpegError', OSError), OSError)
    try:
        container = av.open(path)
    except av_errors as exc:
        raise ValueError(f'cannot open the video {path} with PyAV: {exc}') from exc
    chunks: List[np.ndarray] = []
    offset = 0.0
    try:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format='flt', layout='mono', rate=target_sr)

        def collect(frames) -> None:
            if frames is None:
                return
            for frame in (frames if isinstance(frames, (list, tuple)) else [frames]):
                chunks.append(np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1))

        for i, frame in enumerate(container.decode(stream)):
            if i == 0 and frame.time is not None and frame.time > 0:
                offset = float(frame.time)
            collect(resampler.resample(frame))
        collect(resampler.resample(None))
    except av_errors as exc:
        raise ValueError(f'cannot decode the audio track of {path}: {exc}') from exc
    finally:
        container.close()
    waveform = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if offset > 0:
        waveform = np.concatenate([np.zeros(int(round(offset * target_sr)), np.float32), waveform])
    return np.clip(waveform, -1.0, 1.0)
