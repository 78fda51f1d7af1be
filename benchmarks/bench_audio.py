# Copyright (c) mmavs contributors. All rights reserved.
"""Audio throughput on CPU: log-mel featurisation vs the numpy reference, and backbone forwards.

Usage::

    python benchmarks/bench_audio.py [--batch 64] [--seconds 5] [--repeats 7] [--threads 1 2]

1. Log-mel: ``mmavs.audio.waveform_to_examples`` on a batch ``[64, 80000]`` (64 clips of 5 s at
   16 kHz, float32), and on the same clips one per call (as the log-mel cache tool calls it),
   against the plain-numpy VGGish reference of the tests
   (``tests/mmavs_testing/vggish_numpy_reference.py``: the published algorithm, one clip at a time,
   float64, mel matrix rebuilt per call) on the same clips, in the same run. The reference runs
   twice: with numpy's BLAS at its default thread count and limited to one thread (on small
   matrices a multithreaded OpenBLAS is often much slower; one thread is the reference's best case
   here). Speed-ups are given against both, at each torch thread count of ``--threads``. The
   largest difference between the two outputs is printed as a check.
2. Forward passes on ``[64, 96, 64]`` log-mel examples: VGGish (frozen, eval, no grad; random
   weights, which do not change the speed) and AudioCNN (eval, no grad), in examples/s.

Times are medians (and minima) over ``--repeats`` runs after one warm-up. The log-mel rows are
timed in rounds (each round runs every row once), so that a change of load on a shared machine
hits the reference and mmavs alike; the load average is printed before and after. On a machine
shared with other jobs, multi-threaded torch timings still swing widely (OpenMP barriers wait for
descheduled threads); compare rows of the same run.
"""
import argparse
import contextlib
import importlib.util
import os
import statistics
import time
from pathlib import Path
from typing import Callable, List, Tuple

import numpy as np
import torch

from mmavs.audio import waveform_to_examples
from mmavs.models import AudioCNN, VGGish

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = REPO_ROOT / 'tests' / 'mmavs_testing' / 'vggish_numpy_reference.py'
SAMPLE_RATE = 16000


def load_reference():
    """Import the numpy reference by path."""
    spec = importlib.util.spec_from_file_location('vggish_numpy_reference', REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blas_threads(limit):
    """Context limiting numpy's BLAS threads (no-op if threadpoolctl is missing or limit None)."""
    if limit is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api='blas')


def time_it(fn: Callable[[], object], repeats: int) -> Tuple[float, float]:
    """(median, min) wall time in seconds over ``repeats`` runs, after one warm-up run."""
    fn()
    times: List[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def print_table(title: str, header: List[str], rows: List[List[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = '  '.join('-' * width for width in widths)
    print(f'\n{title}\n{line}')
    print('  '.join(str(cell).ljust(width) for cell, width in zip(header, widths)))
    print(line)
    for row in rows:
        print('  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    print(line)


def time_rounds(rows: List[Tuple[str, Callable[[], object]]],
                repeats: int) -> List[Tuple[float, float]]:
    """(median, min) wall time of each ``(name, fn)`` row; ``repeats`` rounds of one call per row.

    Every row is warmed up once first. Interleaving the rows spreads a change of machine load
    evenly over them, which keeps their ratios meaningful on a shared machine.
    """
    for _, fn in rows:
        fn()
    times: List[List[float]] = [[] for _ in rows]
    for _ in range(repeats):
        for row_times, (_, fn) in zip(times, rows):
            start = time.perf_counter()
            fn()
            row_times.append(time.perf_counter() - start)
    return [(statistics.median(row_times), min(row_times)) for row_times in times]


def bench_log_mel(args) -> None:
    reference = load_reference()
    rng = np.random.default_rng(0)
    clips = rng.uniform(-0.5, 0.5, (args.batch, int(args.seconds * SAMPLE_RATE)))
    clips = clips.astype(np.float32)
    batch = torch.from_numpy(clips)

    def run_reference(limit):
        with blas_threads(limit):
            return [reference.waveform_to_examples(clip) for clip in clips]

    def run_ours(threads, per_clip):
        torch.set_num_threads(threads)
        if per_clip:
            return [waveform_to_examples(clip, SAMPLE_RATE) for clip in batch]
        return waveform_to_examples(batch, SAMPLE_RATE)

    rows = [('numpy reference (BLAS threads: default)', 'default', lambda: run_reference(None)),
            ('numpy reference (BLAS threads: 1)', '1', lambda: run_reference(1))]
    for threads in args.threads:
        rows.append((f'mmavs waveform_to_examples, batch {list(batch.shape)}', str(threads),
                     lambda threads=threads: run_ours(threads, False)))
        rows.append(('mmavs waveform_to_examples, one clip per call', str(threads),
                     lambda threads=threads: run_ours(threads, True)))
    load_before = os.getloadavg()[0]
    timings = time_rounds([(name, fn) for name, _, fn in rows], args.repeats)
    load_after = os.getloadavg()[0]
    torch.set_num_threads(args.threads[-1])

    ours = waveform_to_examples(batch, SAMPLE_RATE).double().numpy()
    expected = np.stack(run_reference(1))
    ref_default, ref_one = timings[0][0], timings[1][0]
    table = []
    for (name, threads, _), (median, best) in zip(rows, timings):
        table.append([
            name, threads, f'{median * 1e3:.1f}', f'{best * 1e3:.1f}', f'{args.batch / median:.0f}',
            f'{ref_one / median:.1f}x', f'{ref_default / median:.1f}x'
        ])
    print_table(
        f'log-mel: {args.batch} clips x {args.seconds:g} s at 16 kHz -> '
        f'{list(ours.shape)} (max |ours - reference| = {np.abs(ours - expected).max():.2e}; '
        f'load average {load_before:.2f} -> {load_after:.2f})', [
            'implementation', 'threads', 'ms/batch (median)', 'ms (min)', 'clips/s',
            'vs ref 1 BLAS thread', 'vs ref default'
        ], table)


def bench_backbones(args) -> None:
    examples = torch.randn(args.backbone_batch, 96, 64)
    models = [('VGGish (frozen)', VGGish(frozen=True)), ('AudioCNN (c=32)', AudioCNN().eval())]
    rows = []
    for name, model in models:
        params = sum(p.numel() for p in model.parameters())
        for threads in args.threads:
            torch.set_num_threads(threads)
            with torch.no_grad():
                median, best = time_it(lambda: model(examples), args.repeats)
            rows.append([
                name, f'{params / 1e6:.2f} M',
                str(threads), f'{median * 1e3:.1f}', f'{best * 1e3:.1f}',
                f'{args.backbone_batch / median:.0f}'
            ])
    print_table(f'backbone forward on CPU: {args.backbone_batch} examples [96, 64]',
                ['model', 'params', 'threads', 'ms/batch (median)', 'ms (min)', 'examples/s'], rows)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=64, help='clips per log-mel batch')
    parser.add_argument('--seconds', type=float, default=5.0, help='clip length in seconds')
    parser.add_argument('--backbone-batch', type=int, default=64, help='examples per forward')
    parser.add_argument('--repeats', type=int, default=7, help='timed runs per row')
    parser.add_argument(
        '--threads',
        type=int,
        nargs='+',
        default=[1, 2],
        help='torch intra-op thread counts to measure')
    parser.add_argument('--skip-backbones', action='store_true', help='log-mel only')
    return parser.parse_args()


def main():
    args = parse_args()
    args.threads = sorted(set(args.threads))
    print(f'torch {torch.__version__}, numpy {np.__version__}, '
          f'{torch.get_num_threads()} torch threads available')
    bench_log_mel(args)
    if not args.skip_backbones:
        bench_backbones(args)


if __name__ == '__main__':
    main()
