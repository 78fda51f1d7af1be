# Copyright (c) mmavs contributors. All rights reserved.
"""Speed of the vectorised AVS metrics against a straightforward per-frame, per-threshold loop.

Random logits (``3 * N(0, 1)``) and random binary masks (30 % foreground), ``N`` frames of
``H x W`` (defaults: 1000 frames of 224 x 224, the frame size of AVSBench). The loop
implementation below is the algorithm of AVSBench's ``mask_iou`` / ``Eval_Fmeasure`` written
plainly: a Python loop over frames and, for the F-score, over the 255 thresholds. Both sides compute
the same numbers (the table prints the absolute difference). Goal: >= 20x faster. The vectorised
time is the best of 3 runs; the loop runs once.

Usage::

    python benchmarks/bench_metrics.py [--num-frames 1000] [--size 224] [--device cpu]
        [--threads 1]       # torch threads; 1 gives stable numbers on a shared machine
        [--loop-frames N]   # time the loop on the first N frames only (per-frame time extrapolated)

The mask-only metrics (mIoU, FPR, false alarm) need one pass over each frame's pixels, which the
loop already does vectorised per frame: they gain little. The F-score loop makes 255 passes per
frame; the vectorised version one.
"""
import argparse
import os
import time

import torch

from mmavs.evaluation import functional as F


def loop_jaccard(logits: torch.Tensor, gt: torch.Tensor) -> float:
    """Mean IoU with one Python iteration per frame (empty GT: background IoU)."""
    total = 0.0
    for x, g in zip(logits, gt):
        pred = torch.sigmoid(x) > 0.5
        g = g.bool()
        if g.any():
            total += float((pred & g).sum()) / float((pred | g).sum())
        else:
            total += 1 - float(pred.float().mean())
    return total / logits.shape[0]


def loop_fscore(logits: torch.Tensor,
                gt: torch.Tensor,
                num: int = 255,
                beta2: float = 0.3) -> float:
    """AVSBench's F-measure: loop over frames, and over thresholds within each frame."""
    thresholds = torch.linspace(0, 1 - 1e-10, num)
    curve = torch.zeros(num, dtype=torch.float64)
    counted = 0
    for x, g in zip(logits, gt):
        g = g.float()
        if g.sum() == 0:
            continue
        prob = torch.sigmoid(x)
        f = torch.zeros(num, dtype=torch.float64)
        for i in range(num):
            passed = (prob >= thresholds[i]).float()
            tp = float((passed * g).sum())
            precision = tp / (float(passed.sum()) + 1e-20)
            recall = tp / (float(g.sum()) + 1e-20)
            denom = beta2 * precision + recall
            f[i] = (1 + beta2) * precision * recall / denom if denom > 0 else 0.0
        curve += f
        counted += 1
    return float((curve / max(counted, 1)).max())


def loop_false_positive_rate(logits: torch.Tensor) -> float:
    """Mean fraction of predicted pixels, one iteration per frame."""
    return sum(float((torch.sigmoid(x) > 0.5).float().mean()) for x in logits) / len(logits)


def loop_false_alarm_rate(logits: torch.Tensor) -> float:
    """Fraction of frames with a predicted pixel, one iteration per frame."""
    return sum(bool((torch.sigmoid(x) > 0.5).any()) for x in logits) / len(logits)


def _timed(fn, *args, repeat: int = 1):
    """``(value, wall s, CPU s)``: the best wall and process CPU time over ``repeat`` runs.

    CPU time (all threads of this process) is reported beside wall time because a shared machine
    slows wall time down by whatever else runs; CPU time measures the work itself.
    """
    wall = cpu = float('inf')
    for _ in range(repeat):
        if args and args[0].is_cuda:
            torch.cuda.synchronize()
        start, start_cpu = time.perf_counter(), time.process_time()
        value = fn(*args)
        if args and args[0].is_cuda:
            torch.cuda.synchronize()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return value, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-frames', type=int, default=1000)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument(
        '--loop-frames', type=int, default=None, help='frames timed with the loop (default: all)')
    parser.add_argument('--chunk-size', type=int, default=F.DEFAULT_CHUNK_SIZE)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch\'s); on a shared machine use 1: '
        'busy cores make multi-threaded timings erratic')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    gen = torch.Generator().manual_seed(args.seed)
    shape = (args.num_frames, args.size, args.size)
    logits = torch.randn(shape, generator=gen) * 3
    gt = (torch.rand(shape, generator=gen) < 0.3).to(torch.uint8)
    n_loop = min(args.loop_frames or args.num_frames, args.num_frames)
    scale = args.num_frames / n_loop
    print(f'{args.num_frames} frames of {args.size}x{args.size}, device {args.device}, '
          f'torch threads {torch.get_num_threads()}, chunk size {args.chunk_size}; loop timed on '
          f'{n_loop} frames' + (' (times extrapolated)' if n_loop < args.num_frames else '') +
          f'; load average {os.getloadavg()[0]:.1f}')

    dev_logits, dev_gt = logits.to(args.device), gt.to(args.device)
    chunk = args.chunk_size
    cases = [
        ('jaccard (mIoU)', lambda x, g: F.jaccard(x, g, chunk), loop_jaccard),
        ('fscore (F, 255 thr)', lambda x, g: F.fscore(x, g, chunk_size=chunk), loop_fscore),
        ('false_positive_rate', lambda x, g: F.false_positive_rate(x, chunk),
         lambda x, g: loop_false_positive_rate(x)),
        ('false_alarm_rate', lambda x, g: F.false_alarm_rate(x, chunk),
         lambda x, g: loop_false_alarm_rate(x)),
    ]
    rows = []
    for name, fast, slow in cases:
        fast(dev_logits[:2], dev_gt[:2])  # warm-up (tables, allocator)
        value, fast_wall, fast_cpu = _timed(fast, dev_logits, dev_gt, repeat=3)
        ref, slow_wall, slow_cpu = _timed(slow, logits[:n_loop], gt[:n_loop])
        if n_loop < args.num_frames:
            value = fast(dev_logits[:n_loop], dev_gt[:n_loop])
        rows.append(
            (name, slow_wall * scale, slow_cpu * scale, fast_wall, fast_cpu, abs(value - ref)))
    # All four metrics from one pass over the data (what RobustAVSMetric does).
    _, both_wall, both_cpu = _timed(
        lambda x, g: F.reduce_statistics(F.frame_statistics(x, g, chunk_size=chunk)),
        dev_logits,
        dev_gt,
        repeat=3)
    rows.append(('all four, one pass', sum(r[1] for r in rows), sum(r[2] for r in rows), both_wall,
                 both_cpu, float('nan')))

    print(f'| {"metric":<22} | {"loop wall s":>11} | {"loop CPU s":>10} | {"vec wall s":>10} | '
          f'{"vec CPU s":>9} | {"speed-up wall":>13} | {"speed-up CPU":>12} | {"abs diff":>8} |')
    print('|' + '|'.join('-' * (w + 2) for w in (22, 11, 10, 10, 9, 13, 12, 8)) + '|')
    for name, slow_wall, slow_cpu, fast_wall, fast_cpu, diff in rows:
        diff_s = '-' if diff != diff else f'{diff:.1e}'
        print(f'| {name:<22} | {slow_wall:>11.2f} | {slow_cpu:>10.2f} | {fast_wall:>10.3f} | '
              f'{fast_cpu:>9.3f} | {slow_wall / fast_wall:>12.1f}x | '
              f'{slow_cpu / max(fast_cpu, 1e-9):>11.1f}x | {diff_s:>8} |')
    print(f'load average at the end: {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()
