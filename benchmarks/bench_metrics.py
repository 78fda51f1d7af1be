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
        [--loop-frames N]   # time the loop on the first N frames only (per-frame time extrapolated)
"""
import argparse
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
    """``(value, best wall time in s over repeat runs)``."""
    best = float('inf')
    for _ in range(repeat):
        if args and args[0].is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        value = fn(*args)
        if args and args[0].is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return value, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-frames', type=int, default=1000)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--loop-frames',
                        type=int,
                        default=None,
                        help='frames timed with the loop (default: all)')
    parser.add_argument('--chunk-size', type=int, default=F.DEFAULT_CHUNK_SIZE)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    gen = torch.Generator().manual_seed(args.seed)
    shape = (args.num_frames, args.size, args.size)
    logits = torch.randn(shape, generator=gen) * 3
    gt = (torch.rand(shape, generator=gen) < 0.3).to(torch.uint8)
    n_loop = min(args.loop_frames or args.num_frames, args.num_frames)
    print(f'{args.num_frames} frames of {args.size}x{args.size}, device {args.device}, '
          f'torch threads {torch.get_num_threads()}; loop timed on {n_loop} frames' +
          (' (time extrapolated to all frames)' if n_loop < args.num_frames else ''))

    dev_logits, dev_gt = logits.to(args.device), gt.to(args.device)
    chunk = args.chunk_size
    rows = []
    cases = [
        ('jaccard (mIoU)', lambda x, g: F.jaccard(x, g, chunk), loop_jaccard, True),
        ('fscore (F, 255 thr)', lambda x, g: F.fscore(x, g, chunk_size=chunk), loop_fscore, True),
        ('false_positive_rate', lambda x, g: F.false_positive_rate(x, chunk),
         lambda x, g: loop_false_positive_rate(x), False),
        ('false_alarm_rate', lambda x, g: F.false_alarm_rate(x, chunk),
         lambda x, g: loop_false_alarm_rate(x), False),
    ]
    total_loop = 0.0
    for name, fast, slow, _ in cases:
        fast(dev_logits[:2], dev_gt[:2])  # warm-up (tables, allocator)
        value, fast_s = _timed(fast, dev_logits, dev_gt, repeat=3)
        ref, slow_s = _timed(slow, logits[:n_loop], gt[:n_loop])
        slow_s *= args.num_frames / n_loop
        total_loop += slow_s
        if n_loop < args.num_frames:
            value = fast(dev_logits[:n_loop], dev_gt[:n_loop])
        rows.append((name, slow_s, fast_s, slow_s / fast_s, abs(value - ref)))
    # All four metrics from one pass over the data (what RobustAVSMetric does).
    _, both_s = _timed(lambda x, g: F.reduce_statistics(F.frame_statistics(x, g, chunk_size=chunk)),
                       dev_logits,
                       dev_gt,
                       repeat=3)
    rows.append(('all four, one pass', total_loop, both_s, total_loop / both_s, float('nan')))

    print(f'| {"metric":<22} | {"loop s":>8} | {"vectorised s":>12} | {"speed-up":>8} | '
          f'{"abs diff":>8} |')
    print(f'|{"-" * 24}|{"-" * 9}:|{"-" * 13}:|{"-" * 9}:|{"-" * 9}:|')
    for name, slow_s, fast_s, ratio, diff in rows:
        diff_s = '-' if diff != diff else f'{diff:.1e}'
        print(f'| {name:<22} | {slow_s:>8.2f} | {fast_s:>12.3f} | {ratio:>7.1f}x | {diff_s:>8} |')


if __name__ == '__main__':
    main()
