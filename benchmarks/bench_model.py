# Copyright (c) mmavs contributors. All rights reserved.
"""Train-step cost of the audio-visual segmentor vs. the same MMSeg EncoderDecoder without audio.

Both variants share the visual backbone, neck, decode head (and its losses), input size and batch;
the AV variant adds the audio backbone, the fusion module and the similarity head. One train
step = forward + loss + backward + AdamW step, on CPU. Each variant runs in its own subprocess
(so that peak memory, ``ru_maxrss``, is its own), alternating AV / visual for ``--rounds`` rounds;
each subprocess warms up, then times ``--iters`` steps and reports the median. The script prints
per-variant medians, the time ratio AV / visual (goal <= 1.25) and the peak resident memory.

Usage::

    python benchmarks/bench_model.py --config configs/_base_/models/tpavi_mit-tiny.py \
        --batch 8 --size 224 --iters 10 --warmup 3 --rounds 2
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

VARIANTS = ('av', 'visual')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config',
        default='configs/_base_/models/tpavi_mit-tiny.py',
        help='model config (a file with `model = dict(type="AVSegmentor", ...)`)')
    parser.add_argument('--batch', type=int, default=8, help='frames per step')
    parser.add_argument('--size', type=int, default=224, help='square input side (pixels)')
    parser.add_argument('--iters', type=int, default=10, help='timed steps per subprocess')
    parser.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    parser.add_argument('--rounds', type=int, default=2, help='AV/visual subprocess pairs')
    parser.add_argument(
        '--threads', type=int, default=0, help='torch intra-op threads (0: torch default)')
    parser.add_argument('--variant', choices=VARIANTS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def rss_mib() -> float:
    """Current resident set size of this process (MiB, Linux /proc)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def build_variant(cfg_model: dict, variant: str):
    """The AV segmentor from the config, or an ``EncoderDecoder`` with the same visual parts."""
    from mmseg.registry import MODELS
    cfg = dict(cfg_model)
    cfg['data_preprocessor'] = None
    if variant == 'visual':
        cfg = dict(
            type='EncoderDecoder',
            backbone=cfg['backbone'],
            decode_head=cfg['decode_head'],
            neck=cfg.get('neck'),
            auxiliary_head=cfg.get('auxiliary_head'),
            train_cfg=cfg.get('train_cfg'),
            test_cfg=cfg.get('test_cfg'))
    return MODELS.build(cfg)


def make_batch(batch: int, size: int):
    """Random normalised frames, log-mel audio, and half positive / half empty masks."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(0)
    img = torch.randn(batch, 3, size, size, generator=gen)
    audio = torch.randn(batch, 96, 64, generator=gen)
    samples = []
    for i in range(batch):
        gt = torch.zeros(1, size, size, dtype=torch.long)
        if i % 2 == 0:
            gt[:, size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                is_sounding=int(i % 2 == 0)))
        sample.gt_sem_seg = PixelData(data=gt)
        samples.append(sample)
    return img, audio, samples


def worker(args) -> dict:
    """Build one variant, time its train steps, return the measurements."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmavs  # noqa: F401
    import mmavs.models.fusion  # noqa: F401
    import mmavs.models.heads  # noqa: F401
    import mmavs.models.losses  # noqa: F401
    import mmavs.models.segmentors  # noqa: F401
    init_default_scope('mmseg')
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_variant(Config.fromfile(args.config).model.to_dict(), args.variant)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=2e-5, weight_decay=0.01)
    img, audio, samples = make_batch(args.batch, args.size)
    inputs = dict(img=img, audio=audio) if args.variant == 'av' else img
    if getattr(model, 'needs_audio_clip', False):  # clip-level audio: five seconds per sample
        inputs['audio_clip'] = audio[:, None].repeat(1, 5, 1, 1)
    rss_built = rss_mib()

    def step():
        optimizer.zero_grad()
        losses = model.loss(inputs, samples)
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return dict(
        variant=args.variant,
        median_s=statistics.median(times),
        min_s=min(times),
        params_m=sum(p.numel() for p in model.parameters()) / 1e6,
        trainable_m=sum(p.numel() for p in params) / 1e6,
        rss_after_build_mib=rss_built,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        threads=torch.get_num_threads())


def run_subprocess(args, variant: str) -> dict:
    cmd = [
        sys.executable,
        os.path.abspath(__file__), '--variant', variant, '--config', args.config, '--batch',
        str(args.batch), '--size',
        str(args.size), '--iters',
        str(args.iters), '--warmup',
        str(args.warmup), '--threads',
        str(args.threads)
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'bench_model.py worker for variant {variant} failed:\n'
                           f'{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.variant:
        print(json.dumps(worker(args)))
        return
    results = {v: [] for v in VARIANTS}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            results[variant].append(run_subprocess(args, variant))
    print(f'config {args.config}  batch {args.batch}x3x{args.size}x{args.size}  '
          f'{args.iters} timed steps after {args.warmup} warm-up, {args.rounds} rounds, '
          f'{results["av"][0]["threads"]} threads')
    medians, minima = {}, {}
    for variant in VARIANTS:
        runs = results[variant]
        medians[variant] = statistics.median(r['median_s'] for r in runs)
        minima[variant] = min(r['min_s'] for r in runs)
        peak = max(r['peak_rss_mib'] for r in runs)
        built = statistics.median(r['rss_after_build_mib'] for r in runs)
        print(f'{variant:>7}: train step median {medians[variant] * 1000:8.1f} ms, '
              f'min {minima[variant] * 1000:8.1f} ms  params {runs[0]["params_m"]:.3f} M '
              f'(trainable {runs[0]["trainable_m"]:.3f} M)  RSS after build {built:7.1f} MiB  '
              f'peak RSS {peak:7.1f} MiB')
    ratio = medians['av'] / medians['visual']
    verdict = 'meets' if ratio <= 1.25 else 'misses'
    print(f'ratio AV / visual train step (medians): {ratio:.3f}x ({verdict} the <= 1.25x goal); '
          f'ratio of minima (least disturbed by other load): '
          f'{minima["av"] / minima["visual"]:.3f}x')


if __name__ == '__main__':
    main()
