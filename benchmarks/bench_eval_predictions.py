# Copyright (c) mmavs contributors. All rights reserved.
"""Speed and memory of the prediction-folder evaluator against decoding the same PNGs alone.

Synthetic AVSBench S4 test predictions: 4 conditions (positive, silence, noise, offscreen) x
``--videos`` videos (default 740, AVSBench S4 test) x 5 frames of 224 x 224, each an 8-bit
probability map of a soft disc (``--kind prob``; ``--kind mask``: its 0/255 mask), plus one
0/255 ground-truth mask per frame. The evaluator
(:func:`mmavs.evaluation.prediction_eval.score_prediction_folders`, what
``tools/analysis_tools/eval_predictions.py`` runs after listing the frames) is timed against
decoding every PNG it reads (``cv2.imread`` of the predictions and of the positive condition's
masks, in the same order), in interleaved rounds so that a change of load on a shared machine
hits both. Goal: evaluator <= 1.5x the decoding time. Also reported: frames/s, and the peak of
Python-tracked memory (``tracemalloc``, numpy arrays included) during one evaluation: it must
stream, not hold the maps.

Usage::

    python benchmarks/bench_eval_predictions.py [--videos 740] [--kind prob|mask] [--rounds 3]
        [--threads 1] [--work-dir DIR]   # PNGs are written to a temporary folder by default
"""
import argparse
import os
import os.path as osp
import shutil
import statistics
import tempfile
import time
import tracemalloc

import cv2
import numpy as np
import torch

from mmavs.evaluation.prediction_eval import FrameRef, iter_frame_paths, score_prediction_folders
from mmavs.evaluation.prediction_io import PredictionLayout

CONDITIONS = ('positive', 'silence', 'noise', 'offscreen')
SIZE = 224
FRAMES = 5


def soft_disc(rng: np.random.Generator) -> np.ndarray:
    """A uint8 probability map ``[224, 224]``: a disc with a soft edge at a random place."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    cy, cx = rng.uniform(40, SIZE - 40, 2)
    radius = rng.uniform(15, 60)
    dist = np.sqrt((yy - cy)**2 + (xx - cx)**2)
    return np.rint(255 / (1 + np.exp((dist - radius) / 4))).astype(np.uint8)


def write_data(root: str, videos: int, kind: str, seed: int = 0):
    """Write the masks and the prediction folders; return ``(frames, folders, layout)``."""
    rng = np.random.default_rng(seed)
    layout = PredictionLayout('s4')
    frames = []
    for v in range(videos):
        name = f'video_{v:04d}'
        for i in range(FRAMES):
            gt_path = osp.join(root, 'gt', name, f'{name}_{i + 1}.png')
            frames.append(FrameRef('test', 'dog_barking', name, i, gt_path))
    folders = {c: osp.join(root, 'pred', c) for c in CONDITIONS}
    for f in frames:
        os.makedirs(osp.dirname(f.gt_path), exist_ok=True)
        cv2.imwrite(f.gt_path, (soft_disc(rng) > 127).astype(np.uint8) * 255)
        for condition, folder in folders.items():
            path = osp.join(folder, layout.relpath(f.split, f.category, f.video_id, f.frame_idx))
            os.makedirs(osp.dirname(path), exist_ok=True)
            pred = soft_disc(rng)
            cv2.imwrite(path, pred if kind == 'prob' else (pred > 127).astype(np.uint8) * 255)
    return frames, folders, layout


def decode_all(frames, folders, layout) -> int:
    """Decode every PNG the evaluator reads, in its order; returns the number of PNGs."""
    count = 0
    for condition, folder in folders.items():
        for f, path in zip(frames, iter_frame_paths(folder, frames, layout)):
            if condition == 'positive':
                cv2.imread(f.gt_path, cv2.IMREAD_UNCHANGED)
                count += 1
            cv2.imread(path, cv2.IMREAD_UNCHANGED)
            count += 1
    return count


def decode_predictions(frames, folders, layout) -> None:
    for folder in folders.values():
        for path in iter_frame_paths(folder, frames, layout):
            cv2.imread(path, cv2.IMREAD_UNCHANGED)


def evaluate(frames, folders, layout) -> dict:
    return score_prediction_folders(frames, folders, layout, progress=False)


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--videos', type=int, default=740, help='videos per condition')
    parser.add_argument('--kind', choices=('prob', 'mask'), default='prob')
    parser.add_argument('--rounds', type=int, default=3, help='interleaved timing rounds')
    parser.add_argument('--threads', type=int, default=1, help='torch and OpenCV threads')
    parser.add_argument('--work-dir', help='where the PNGs go (default: a temporary folder)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    root = args.work_dir or tempfile.mkdtemp(prefix='bench_eval_predictions_')
    try:
        start = time.perf_counter()
        frames, folders, layout = write_data(root, args.videos, args.kind)
        print(f'wrote {len(frames) * (len(CONDITIONS) + 1)} PNGs in '
              f'{time.perf_counter() - start:.1f} s under {root}')
        num_pngs = decode_all(frames, folders, layout)  # warm the page cache
        evaluate(frames, folders, layout)
        decode_times, pred_times, eval_times = [], [], []
        for _ in range(args.rounds):
            decode_times.append(timed(decode_all, frames, folders, layout)[0])
            pred_times.append(timed(decode_predictions, frames, folders, layout)[0])
            eval_times.append(timed(evaluate, frames, folders, layout)[0])
        tracemalloc.start()
        result = evaluate(frames, folders, layout)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        if args.work_dir is None:
            shutil.rmtree(root, ignore_errors=True)
    ratios = [e / d for e, d in zip(eval_times, decode_times)]
    num_frames = len(frames) * len(CONDITIONS)
    summary = dict(
        frames=num_frames,
        pngs=num_pngs,
        decode_s=statistics.median(decode_times),
        decode_predictions_s=statistics.median(pred_times),
        evaluate_s=statistics.median(eval_times),
        ratio=statistics.median(ratios),
        ratio_to_predictions=statistics.median(e / p for e, p in zip(eval_times, pred_times)),
        frames_per_s=num_frames / statistics.median(eval_times),
        peak_mib=peak / 2**20,
        load=os.getloadavg()[0])
    print(f'{args.kind} maps, {args.videos} videos x {FRAMES} frames x {len(CONDITIONS)} '
          f'conditions = {num_frames} frames ({num_pngs} PNGs with the positive masks), '
          f'{args.threads} thread(s), load average {summary["load"]:.2f}')
    print(f'decode every PNG alone : {summary["decode_s"]:.2f} s  '
          f'(predictions only: {summary["decode_predictions_s"]:.2f} s)')
    print(f'evaluator              : {summary["evaluate_s"]:.2f} s  '
          f'({summary["frames_per_s"]:.0f} frames/s)')
    print(f'ratio evaluator / decode: {summary["ratio"]:.2f}x (rounds: '
          f'{", ".join(f"{r:.2f}" for r in ratios)}; goal <= 1.5x); / predictions only: '
          f'{summary["ratio_to_predictions"]:.2f}x')
    print(f'peak Python-tracked memory of one evaluation: {summary["peak_mib"]:.1f} MiB '
          f'(the metric keeps ~2 KB per frame)')
    print(f'positive mIoU {result["metrics"]["positive/mIoU"]:.4f}, '
          f'G-FPR {result["metrics"]["G-FPR"]:.4f}')
    return summary


if __name__ == '__main__':
    main()
