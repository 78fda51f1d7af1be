# Copyright (c) mmavs contributors. All rights reserved.
"""Segment the sounding objects of your own video (or frames) given its audio.

Examples::

    python tools/infer.py CONFIG CHECKPOINT --video clip.mp4 --out-dir out/clip
    python tools/infer.py CONFIG CHECKPOINT --video clip.mp4 --audio clip.wav --fps 2
    python tools/infer.py CONFIG CHECKPOINT --frames frames/ --audio clip.wav --gate-thr 0.5
    python tools/infer.py CONFIG CHECKPOINT --frames frames/        # no audio: silence

Frames: ``--video`` is sampled at ``--fps`` frames per second of its own timestamps (default 1,
the AVSBench convention; any native frame rate and length); the images of ``--frames`` are taken
in natural name order as ``--fps`` frames per second (frame ``i`` at ``i / fps`` s).
Audio: ``--audio`` (any file ``mmavs.audio.load_audio`` reads), else the video's audio track
(decoded with PyAV when installed), else silence: a video without an audio track, a silent track,
``--no-audio`` or ``--frames`` without ``--audio`` are processed as digital silence, with a note.
Frame ``i`` (time ``t_i``) hears the 0.96 s log-mel example of second ``floor(t_i)``.

Writes into ``--out-dir``: ``masks/<name>.png`` (0/255), ``overlays/<name>.png`` (the mask as a
red fill with its contour, under a header with the similarity probability, the gate threshold
and decision; ``--grid``: the mask and the log-mel the frame heard beside it),
``overlay.gif`` (or ``overlay.mp4`` with ``--anim mp4``) and ``scores.csv``; prints the
per-frame similarity table. The model runs through :class:`mmavs.apis.AVSInferencer`.
"""
import argparse
import csv
import os
import os.path as osp
import sys
import warnings
from typing import List, Optional, Tuple

import numpy as np

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.apis import AVSInferencer
from mmavs.audio import AudioLoadError, is_silent, load_audio
from mmavs.utils.checkpoint import (CheckpointLoadError, add_unsafe_load_argument,
                                    apply_unsafe_load_argument)
from mmavs.utils.constants import EXAMPLE_SECONDS
from mmavs.utils.image import read_frame
from mmavs.utils.video import (list_frame_files, probe_audio_track, pyav_available,
                               read_video_audio, read_video_frames)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Audio-visual segmentation of your own video / frames + audio')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--frames', help='folder of frames (images in natural name order)')
    source.add_argument('--video', help='video file (mp4, avi, mkv, ...; read with OpenCV)')
    parser.add_argument(
        '--audio',
        help='audio file (wav, flac, ...); default: the video\'s '
        'audio track, or silence')
    parser.add_argument(
        '--no-audio',
        action='store_true',
        help='ignore any audio track and process the frames with silence')
    parser.add_argument(
        '--fps',
        type=float,
        default=1.0,
        help='frames per second sampled from the video / of the frames folder '
        '(default 1)')
    parser.add_argument('--max-frames', type=int, default=None, help='stop after N frames')
    parser.add_argument('--out-dir', default='infer_out', help='output folder')
    parser.add_argument(
        '--gate-thr',
        type=float,
        default=None,
        help='gate masks whose similarity probability is below this threshold '
        '(default: the checkpoint meta / config value, if any)')
    parser.add_argument(
        '--anim',
        choices=['gif', 'mp4', 'none'],
        default='gif',
        help='animation of the overlays (default gif)')
    parser.add_argument(
        '--grid',
        action='store_true',
        help='overlays as frame | mask | log-mel panels (default: the frame with its mask)')
    parser.add_argument('--batch-size', type=int, default=8, help='frames per forward pass')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:0, ...')
    add_unsafe_load_argument(parser)
    args = parser.parse_args(argv)
    if args.fps <= 0:
        parser.error(f'--fps must be > 0, found {args.fps}')
    if args.audio and args.no_audio:
        parser.error('--audio and --no-audio are mutually exclusive')
    return args


def load_frames(args) -> Tuple[List[np.ndarray], List[float], List[str]]:
    """``(BGR frames, times in s, output names)`` from ``--frames`` or ``--video``."""
    if args.frames:
        paths = list_frame_files(args.frames)
        if args.max_frames:
            paths = paths[:args.max_frames]
        frames = [read_frame(p) for p in paths]
        times = [i / args.fps for i in range(len(frames))]
        names = [osp.splitext(osp.basename(p))[0] for p in paths]
        print(f'{len(frames)} frames from {args.frames} at {args.fps:g} frame(s)/s')
        return frames, times, names
    frames, times, info = read_video_frames(args.video, args.fps, args.max_frames)
    native = f'{info["native_fps"]:.3g} fps' if info['native_fps'] else 'unknown fps'
    print(f'{len(frames)} frames sampled at {args.fps:g}/s from {args.video} '
          f'({info["num_decoded"]} decoded, {native}, {info["duration"]:.2f} s)')
    return frames, times, [f'frame_{i:05d}' for i in range(len(frames))]


def load_sound(args) -> Tuple[Optional[np.ndarray], Optional[int], str]:
    """``(waveform or None for silence, sample rate, description)``."""
    if args.audio:  # a user's file: a header/length mismatch is a warning, not an error
        wave, sr = load_audio(args.audio, on_mismatch='warn')
        if is_silent(wave):
            print(f'note: {args.audio} is silent: the frames are processed with silence')
        return wave, sr, args.audio
    if args.no_audio:
        print('note: --no-audio: the frames are processed with silence')
        return None, None, 'silence (--no-audio)'
    if args.frames:
        print('note: no --audio given: the frames are processed with silence')
        return None, None, 'silence (no --audio)'
    if pyav_available():
        wave = read_video_audio(args.video)
        if wave is None:
            print(f'note: {args.video} has no audio track: the frames are processed with silence')
            return None, None, 'silence (no audio track)'
        if is_silent(wave):
            print(f'note: the audio track of {args.video} is silent')
        return wave, 16000, f'audio track of {args.video}'
    has_audio = probe_audio_track(args.video)
    if has_audio is False:
        print(f'note: {args.video} has no audio track: the frames are processed with silence')
        return None, None, 'silence (no audio track)'
    what = 'has an audio track' if has_audio else 'may have an audio track (unknown container)'
    raise ValueError(
        f'{args.video} {what}, but PyAV (the `av` package) is not installed to decode it: '
        f'pass the audio as a file with --audio (e.g. `ffmpeg -i {args.video} -ac 1 -ar 16000 '
        'audio.wav`), or --no-audio to process the frames with silence')


def frame_paths(args, names: List[str]) -> List[str]:
    """How each frame is named in errors: its file, or its time in the video."""
    if args.frames:
        return [p for p in list_frame_files(args.frames)][:len(names)]
    return [f'{args.video} ({name})' for name in names]


def warn_audio_coverage(wave: Optional[np.ndarray], sr: Optional[int], times: List[float],
                        desc: str) -> None:
    """Warn when the audio ends before the second of the last frame (the rest is padded)."""
    if wave is None or not times:
        return
    needed = int(max(times)) + EXAMPLE_SECONDS
    duration = len(wave) / sr
    if duration + 1e-6 < needed:
        warnings.warn(f'{desc} lasts {duration:.3f} s, but the frames reach {max(times):.2f} s '
                      f'(their audio needs {needed:.2f} s): the missing audio is padded with '
                      'silence')


def write_outputs(args, inferencer, frames, names, results, audio_desc: str) -> List[np.ndarray]:
    """Masks and overlays as PNG; returns the RGB overlays."""
    from PIL import Image
    mask_dir, overlay_dir = osp.join(args.out_dir, 'masks'), osp.join(args.out_dir, 'overlays')
    os.makedirs(mask_dir, exist_ok=True)
    os.makedirs(overlay_dir, exist_ok=True)
    overlays = []
    for frame, name, result in zip(frames, names, results):
        mask = result.pred_sem_seg.data[0].numpy().astype(np.uint8)
        Image.fromarray(mask * 255).save(osp.join(mask_dir, f'{name}.png'))
        title = f'{name}  t={result.metainfo["frame_time"]:.2f} s'
        overlay = inferencer.visualize(
            frame, result, grid=args.grid, title=title, audio_label=audio_desc)
        Image.fromarray(overlay).save(osp.join(overlay_dir, f'{name}.png'))
        overlays.append(overlay)
    return overlays


def write_animation(args, overlays: List[np.ndarray]) -> Optional[str]:
    """``overlay.gif`` (PIL) or ``overlay.mp4`` (OpenCV, mp4v) at ``--fps``."""
    if args.anim == 'none' or not overlays:
        return None
    if args.anim == 'gif':
        from PIL import Image
        path = osp.join(args.out_dir, 'overlay.gif')
        images = [Image.fromarray(o) for o in overlays]
        images[0].save(
            path,
            save_all=True,
            append_images=images[1:],
            duration=max(int(round(1000 / args.fps)), 20),
            loop=0)
        return path
    import cv2
    path = osp.join(args.out_dir, 'overlay.mp4')
    height, width = overlays[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), args.fps, (width, height))
    if not writer.isOpened():
        raise ValueError(f'OpenCV cannot write the video {path}; use --anim gif')
    for overlay in overlays:
        if overlay.shape[:2] != (height, width):
            overlay = cv2.resize(overlay, (width, height), interpolation=cv2.INTER_NEAREST)
        writer.write(np.ascontiguousarray(overlay[..., ::-1]))
    writer.release()
    return path


def score_rows(names, results) -> List[dict]:
    """One row per frame: time, audio second, similarity, mask area, gated."""
    rows = []
    for name, result in zip(names, results):
        sim = result.get('pred_similarity')
        mask = result.pred_sem_seg.data
        rows.append(
            dict(
                frame=name,
                time_s=float(result.metainfo['frame_time']),
                audio_second=int(result.metainfo['audio_example']),
                similarity=float('nan') if sim is None else float(sim),
                mask_area=float(mask.float().mean()),
                gated=bool(result.metainfo.get('gated', False))))
    return rows


def format_scores(rows: List[dict], gate_thr: Optional[float]) -> str:
    """The per-frame similarity table as text."""
    header = f'{"frame":<24} {"time s":>7} {"audio s":>7} {"similarity":>10} ' \
             f'{"mask area":>9} {"gated":>5}'
    lines = [header, '-' * len(header)]
    for r in rows:
        sim = '-' if r['similarity'] != r['similarity'] else f'{r["similarity"]:.4f}'
        gated = ('yes' if r['gated'] else 'no') if gate_thr is not None else '-'
        lines.append(f'{r["frame"][:24]:<24} {r["time_s"]:>7.2f} {r["audio_second"]:>7d} '
                     f'{sim:>10} {r["mask_area"]:>9.4f} {gated:>5}')
    return '\n'.join(lines)


def write_scores(path: str, rows: List[dict]) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    try:
        frames, times, names = load_frames(args)
        wave, sr, audio_desc = load_sound(args)
        inferencer = AVSInferencer(args.config, args.checkpoint, args.device, args.gate_thr)
        warn_audio_coverage(wave, sr, times, audio_desc)
        results = inferencer(
            frames,
            wave,
            sample_rate=sr,
            frame_times=times,
            batch_size=args.batch_size,
            frame_names=frame_paths(args, names),
            grid=args.grid,
            return_datasamples=True)['predictions']
    except (FileNotFoundError, ValueError, AudioLoadError, CheckpointLoadError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        raise SystemExit(2) from exc
    os.makedirs(args.out_dir, exist_ok=True)
    overlays = write_outputs(args, inferencer, frames, names, results, audio_desc)
    anim = write_animation(args, overlays)
    rows = score_rows(names, results)
    write_scores(osp.join(args.out_dir, 'scores.csv'), rows)
    gate = 'off' if inferencer.gate_thr is None else f'similarity >= {inferencer.gate_thr:g}'
    print(f'\naudio: {audio_desc}; gating: {gate}')
    print(format_scores(rows, inferencer.gate_thr))
    print(f'\nwrote {len(rows)} masks and overlays to {args.out_dir}' +
          (f', animation {anim}' if anim else ''))
    return rows


if __name__ == '__main__':
    main()
