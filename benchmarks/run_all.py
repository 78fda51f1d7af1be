# Copyright (c) mmavs contributors. All rights reserved.
"""Run the speed benchmarks of mmavs and print every ratio against its goal in one table.

Usage::

    python benchmarks/run_all.py            # full sizes (about 40 s on 2 CPU cores)
    python benchmarks/run_all.py --quick    # smaller sizes (about 15 s), same rows
    python benchmarks/run_all.py --json results.json

Rows (each measured with the building blocks of the benchmark script named, so the numbers mean
the same as there; see each script's docstring for the method):

* ``benchmarks/bench_audio.py``: log-mel featurisation, ``mmavs.audio.waveform_to_examples`` on a
  batch of 5 s clips (torch, 1 thread) against the plain-numpy VGGish reference of the tests, with
  numpy's BLAS at its default thread count (goal >= 10x) and limited to one thread (reported).
* ``benchmarks/bench_metrics.py``: the vectorised F-score and the four metrics in one pass
  (``frame_statistics`` + ``reduce_statistics``) against AVSBench's per-frame, per-threshold loop
  (goal >= 20x); the loop runs on the first ``loop_frames`` frames and is extrapolated.
* ``benchmarks/bench_model.py``: train step of the AV segmentor against the same MMSeg
  ``EncoderDecoder`` without audio (forward + loss + backward + AdamW; each in its own
  subprocess; goal <= 1.25x), medians and minima over rounds.

Ratios are "ours vs. reference" in the direction of the goal: speed-ups are reference / ours,
the model cost is AV / visual. On a machine shared with other jobs, timings swing: compare rows
of one run, and prefer ``--threads 1`` (the default here).
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import torch

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SAMPLE_RATE = 16000

#: Sizes per mode.
SIZES = {
    'full':
    dict(
        clips=64,
        seconds=5.0,
        repeats=7,
        frames=1000,
        frame_size=224,
        loop_frames=50,
        model_batch=8,
        model_size=224,
        model_iters=10,
        model_warmup=3,
        rounds=2),
    'quick':
    dict(
        clips=16,
        seconds=5.0,
        repeats=3,
        frames=200,
        frame_size=112,
        loop_frames=10,
        model_batch=8,
        model_size=224,
        model_iters=4,
        model_warmup=2,
        rounds=1),
}


def load_bench(name: str):
    """Import ``benchmarks/<name>.py`` by path (the folder is not a package)."""
    path = BENCH_DIR / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'mmavs_bench_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(name: str, ours: float, reference: float, unit: str, ratio: float, goal: str, met) -> Dict:
    """One table row; ``met`` is True/False, or None for a reported-only row."""
    return dict(
        name=name, ours=ours, reference=reference, unit=unit, ratio=ratio, goal=goal, met=met)


def audio_rows(size: dict) -> List[Dict]:
    """Log-mel featurisation vs. the numpy reference (bench_audio.py's building blocks)."""
    from mmavs.audio import waveform_to_examples
    bench = load_bench('bench_audio')
    reference = bench.load_reference()
    rng = np.random.default_rng(0)
    clips = rng.uniform(-0.5, 0.5, (size['clips'], int(size['seconds'] * SAMPLE_RATE)))
    clips = clips.astype(np.float32)
    batch = torch.from_numpy(clips)

    def run_reference():
        return [reference.waveform_to_examples(clip) for clip in clips]

    ours, _ = bench.time_it(lambda: waveform_to_examples(batch, SAMPLE_RATE), size['repeats'])
    ref_default, _ = bench.time_it(run_reference, max(2, size['repeats'] // 2))
    with bench.blas_threads(1):
        ref_one, _ = bench.time_it(run_reference, max(2, size['repeats'] // 2))
    what = f'log-mel, {size["clips"]} clips x {size["seconds"]:g} s'
    return [
        row(f'{what} vs numpy ref (default BLAS)', ours * 1e3, ref_default * 1e3, 'ms',
            ref_default / ours, '>= 10x', ref_default / ours >= 10),
        row(f'{what} vs numpy ref (1 BLAS thread)', ours * 1e3, ref_one * 1e3, 'ms', ref_one / ours,
            '(reported)', None),
    ]


def metrics_rows(size: dict) -> List[Dict]:
    """Vectorised metrics vs. the per-frame loop (bench_metrics.py's building blocks)."""
    from mmavs.evaluation import functional as F
    bench = load_bench('bench_metrics')
    gen = torch.Generator().manual_seed(0)
    shape = (size['frames'], size['frame_size'], size['frame_size'])
    logits = torch.randn(shape, generator=gen) * 3
    gt = (torch.rand(shape, generator=gen) < 0.3).to(torch.uint8)
    n_loop = min(size['loop_frames'], size['frames'])
    scale = size['frames'] / n_loop

    F.fscore(logits[:2], gt[:2])  # warm-up (tables, allocator)
    _, fast_f, _ = bench._timed(F.fscore, logits, gt, repeat=3)
    _, slow_f, _ = bench._timed(bench.loop_fscore, logits[:n_loop], gt[:n_loop])
    _, fast_all, _ = bench._timed(
        lambda x, g: F.reduce_statistics(F.frame_statistics(x, g)), logits, gt, repeat=3)
    slow_all = slow_f
    for loop in (bench.loop_jaccard, lambda x, g: bench.loop_false_positive_rate(x),
                 lambda x, g: bench.loop_false_alarm_rate(x)):
        slow_all += bench._timed(loop, logits[:n_loop], gt[:n_loop])[1]
    slow_f, slow_all = slow_f * scale, slow_all * scale
    what = f'{size["frames"]} frames {size["frame_size"]}px'
    return [
        row(f'F-score (255 thr), {what} vs loop', fast_f, slow_f, 's', slow_f / fast_f, '>= 20x',
            slow_f / fast_f >= 20),
        row(f'all four metrics one pass, {what} vs loops', fast_all, slow_all, 's',
            slow_all / fast_all, '>= 20x', slow_all / fast_all >= 20),
    ]


def model_rows(size: dict, threads: int) -> List[Dict]:
    """AV train step vs. visual-only train step (bench_model.py's subprocess workers)."""
    bench = load_bench('bench_model')
    args = bench.parse_args([
        '--config',
        str(REPO_ROOT / 'configs/_base_/models/tpavi_mit-tiny.py'), '--batch',
        str(size['model_batch']), '--size',
        str(size['model_size']), '--iters',
        str(size['model_iters']), '--warmup',
        str(size['model_warmup']), '--threads',
        str(threads)
    ])
    runs = {v: [] for v in bench.VARIANTS}
    for _ in range(size['rounds']):
        for variant in bench.VARIANTS:
            runs[variant].append(bench.run_subprocess(args, variant))
    med = {v: statistics.median(r['median_s'] for r in runs[v]) for v in runs}
    low = {v: min(r['min_s'] for r in runs[v]) for v in runs}
    what = f'tiny AVS train step, batch {size["model_batch"]}x{size["model_size"]}px'
    return [
        row(f'{what}, AV vs visual (medians)', med['av'] * 1e3, med['visual'] * 1e3, 'ms',
            med['av'] / med['visual'], '<= 1.25x', med['av'] / med['visual'] <= 1.25),
        row(f'{what}, AV vs visual (minima)', low['av'] * 1e3, low['visual'] * 1e3, 'ms',
            low['av'] / low['visual'], '<= 1.25x', low['av'] / low['visual'] <= 1.25),
    ]


def format_rows(rows: List[Dict]) -> str:
    """The one table: name, ours, reference, ratio, goal, met."""
    header = ['benchmark', 'ours', 'reference', 'ratio', 'goal', 'met']
    body = []
    for r in rows:
        met = '-' if r['met'] is None else ('yes' if r['met'] else 'NO')
        body.append([
            r['name'], f'{r["ours"]:.3g} {r["unit"]}', f'{r["reference"]:.3g} {r["unit"]}',
            f'{r["ratio"]:.2f}x', r['goal'], met
        ])
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    line = '-+-'.join('-' * w for w in widths)
    out = [line, ' | '.join(h.ljust(w) for h, w in zip(header, widths)), line]
    out += [' | '.join(x.ljust(w) for x, w in zip(b, widths)) for b in body]
    out.append(line)
    return '\n'.join(out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Run all mmavs speed benchmarks')
    parser.add_argument('--quick', action='store_true', help='small sizes (a smoke run)')
    parser.add_argument(
        '--only',
        nargs='+',
        choices=['audio', 'metrics', 'model'],
        default=['audio', 'metrics', 'model'],
        help='benchmarks to run')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch intra-op threads (default 1: stable on a shared machine)')
    parser.add_argument('--json', help='also write the rows to this JSON file')
    return parser.parse_args(argv)


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    import mmavs  # noqa: F401  (environment fixes)
    torch.set_num_threads(args.threads)
    size = SIZES['quick' if args.quick else 'full']
    runners: Dict[str, Callable[[], List[Dict]]] = dict(
        audio=lambda: audio_rows(size),
        metrics=lambda: metrics_rows(size),
        model=lambda: model_rows(size, args.threads))
    rows = []
    for name in args.only:
        print(f'running the {name} benchmark ...', flush=True)
        rows += runners[name]()
    print(f'\nmmavs speed benchmarks ({"quick" if args.quick else "full"} sizes, torch '
          f'{torch.__version__}, {args.threads} torch thread(s), load average '
          f'{os.getloadavg()[0]:.1f})')
    print(format_rows(rows))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
