# Copyright (c) mmavs contributors. All rights reserved.
"""A video with its audio track in, an overlay video with the similarity curve out.

Example::

    python demo/video_demo.py clip.mp4 CONFIG CHECKPOINT --out clip_avs.mp4 --fps 4

The video's frames are sampled at ``--fps`` (OpenCV) and its audio track is decoded with PyAV
(``--audio`` takes a separate sound file instead; a video without a track is heard as
silence). :class:`mmavs.apis.AVSInferencer` segments every sampled frame, which hears the
0.96 s log-mel example of its second. Each output frame is the overlay (mask fill + contour, a
header with the similarity probability and the gate decision) above the similarity curve of
the whole clip with a cursor at the frame (:func:`mmavs.visualization.similarity_strip`). The
MP4 (H.264 where the FFmpeg build has it, else MPEG-4 Part 2) is written with PyAV at
``--fps``, the input's audio muxed back in as AAC (``--mute`` leaves it out).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.apis import AVSInferencer
from mmavs.audio import AudioLoadError, load_audio
from mmavs.utils.checkpoint import add_unsafe_load_argument, apply_unsafe_load_argument
from mmavs.utils.video import read_video_audio, read_video_frames
from mmavs.visualization import similarity_strip

SAMPLE_RATE = 16000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Overlay video of audio-visual segmentation')
    parser.add_argument('video', help='input video (with an audio track)')
    parser.add_argument('config', help='model config file or model name of model-index.yml')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', default='avs_demo.mp4', help='output MP4 (default avs_demo.mp4)')
    parser.add_argument('--audio', help='sound file to use instead of the video\'s track')
    parser.add_argument('--fps', type=float, default=4.0, help='frames per second (default 4)')
    parser.add_argument('--max-frames', type=int, default=None, help='stop after N frames')
    parser.add_argument('--gate-thr', type=float, default=None, help='gate threshold')
    parser.add_argument('--mute', action='store_true', help='write the video without audio')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:0, ...')
    add_unsafe_load_argument(parser)
    args = parser.parse_args(argv)
    if args.fps <= 0:
        parser.error(f'--fps must be > 0, found {args.fps}')
    return args


def compose(overlays: List[np.ndarray], times: List[float], sims: List[float],
            gate_thr: Optional[float], duration: float) -> List[np.ndarray]:
    """Each overlay above the similarity strip; every picture resized to the first's width and
    to even sizes (H.264 needs them)."""
    import cv2
    width = overlays[0].shape[1] // 2 * 2
    out = []
    for i, overlay in enumerate(overlays):
        if overlay.shape[1] != width:
            scale = width / overlay.shape[1]
            overlay = cv2.resize(overlay, (width, int(round(overlay.shape[0] * scale))))
        strip = similarity_strip(times, sims, i, width, 96, gate_thr, duration)
        picture = np.concatenate([overlay, strip], axis=0)
        out.append(picture[:picture.shape[0] // 2 * 2])
    height = min(p.shape[0] for p in out)
    return [np.ascontiguousarray(p[:height]) for p in out]


def write_video(path: str, pictures: List[np.ndarray], fps: float,
                waveform: Optional[np.ndarray]) -> str:
    """RGB pictures (and a mono 16 kHz waveform) into an MP4 with PyAV; returns the codec."""
    from fractions import Fraction

    import av
    rate = Fraction(fps).limit_denominator(1000)
    container = av.open(path, mode='w')
    try:
        codec = 'libx264' if 'libx264' in av.codecs_available else 'mpeg4'
        video = container.add_stream(codec, rate=rate)
        video.height, video.width = pictures[0].shape[:2]
        video.pix_fmt = 'yuv420p'
        audio = None
        if waveform is not None and len(waveform):
            audio = container.add_stream('aac', rate=SAMPLE_RATE, layout='mono')
        for picture in pictures:
            frame = av.VideoFrame.from_ndarray(picture, format='rgb24')
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            length = int(round(len(pictures) / fps * SAMPLE_RATE))
            samples = np.zeros(length, np.float32)
            samples[:min(length, len(waveform))] = waveform[:length]
            chunk = 1024
            for start in range(0, length, chunk):
                block = samples[start:start + chunk][None]
                frame = av.AudioFrame.from_ndarray(block, format='flt', layout='mono')
                frame.sample_rate = SAMPLE_RATE
                frame.pts = start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    finally:
        container.close()
    return codec


def main(argv=None) -> dict:
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    try:
        frames, times, info = read_video_frames(args.video, args.fps, args.max_frames)
        if args.audio:
            waveform = load_audio(args.audio, SAMPLE_RATE)[0]
        else:
            waveform = read_video_audio(args.video, SAMPLE_RATE)
        inferencer = AVSInferencer(args.config, args.checkpoint, args.device, args.gate_thr)
    except (FileNotFoundError, ValueError, AudioLoadError, ImportError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        raise SystemExit(2) from exc
    heard = 'silence (no audio track)' if waveform is None else (
        osp.basename(args.audio) if args.audio else 'the audio track')
    result = inferencer(
        frames,
        audio=waveform,
        sample_rate=SAMPLE_RATE if waveform is not None else None,
        frame_times=times,
        return_vis=True,
        return_datasamples=True)
    names = [f'{osp.basename(args.video)}  t={t:.2f} s' for t in times]
    overlays = [
        inferencer.visualize(f, r, title=n, audio_label=heard)
        for f, r, n in zip(frames, result['predictions'], names)
    ]
    duration = max(info['duration'], times[-1] + 1.0 / args.fps)
    pictures = compose(overlays, times, result['similarity'], inferencer.gate_thr, duration)
    codec = write_video(args.out, pictures, args.fps, None if args.mute else waveform)
    sims = [s for s in result['similarity'] if s == s]
    mean = f'{np.mean(sims):.3f}' if sims else '-'
    with_audio = ', audio' if waveform is not None and not args.mute else ''
    print(f'{len(pictures)} frames at {args.fps:g}/s of {args.video}, heard: {heard}; '
          f'mean similarity {mean}; wrote {args.out} ({codec}{with_audio})')
    return dict(times=times, similarity=result['similarity'], out=args.out)


if __name__ == '__main__':
    main()
