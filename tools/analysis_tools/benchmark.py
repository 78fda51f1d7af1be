# Copyright (c) mmavs contributors. All rights reserved.
"""Speed of a model config: inference FPS / latency, training throughput, peak memory.

Examples::

    python tools/analysis_tools/benchmark.py \
        configs/tpavi/tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112.py
    python tools/analysis_tools/benchmark.py CONFIG --mode both --iters 50 --batch-size 8
    python tools/analysis_tools/benchmark.py CONFIG --checkpoint ckpt.pth --device cuda

Like MMSeg's ``tools/analysis_tools/benchmark.py``, but without a dataset: the inputs are random
frames of the config's test size (the ``Resize`` scale of its test pipeline; for training the
``crop_size``), random log-mel audio ``[96, 64]`` (and a clip of five for clip-level models)
and, for training, half sounding frames with a square mask and half negatives with an empty one.
Inference = ``model.test_step`` (data preprocessor, forward, un-padding and resizing to the
original size, thresholding, gating); training step = ``model.train_step`` (forward, losses,
backward, optimizer step from the config's ``optim_wrapper``). ``--warmup`` untimed iterations
come first; the report gives the median (and min, mean) over ``--iters`` timed ones.

Peak memory: on CUDA, ``torch.cuda.max_memory_allocated`` (tensors only). On CPU, PyTorch keeps no
allocator statistics, so the number is the process's peak resident set size (``ru_maxrss``):
it includes the interpreter, the libraries (~0.5 GB for torch + mmcv + mmseg) and the model, and is
a high-water mark for the whole run (the training figure includes the inference phase before it).
"""
import argparse
import resource
import statistics
import time
from typing import Callable, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark an mmavs model config')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--checkpoint', help='checkpoint (optional; speed does not depend on '
        'the weights)')
    parser.add_argument('--mode', choices=['infer', 'train', 'both'], default='infer')
    parser.add_argument('--iters', type=int, default=20, help='timed iterations (default 20)')
    parser.add_argument('--warmup', type=int, default=5, help='untimed iterations first')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='frames per iteration (default 1: per-frame latency)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input size (default: from the config)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:0, ...')
    parser.add_argument(
        '--threads', type=int, default=0, help='torch intra-op threads (0: torch default)')
    args = parser.parse_args(argv)
    if args.iters < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error('--iters and --batch-size must be >= 1, --warmup >= 0')
    return args


def _pipeline(cfg: Config, loader_key: str) -> List[dict]:
    loader = cfg.get(loader_key) or {}
    dataset = loader.get('dataset') or {}
    for _ in range(16):
        if 'pipeline' in dataset or not isinstance(dataset.get('dataset'), dict):
            break
        dataset = dataset['dataset']
    return list(dataset.get('pipeline', []))


def _transform_arg(pipeline: List[dict], names: Tuple[str, ...], key: str):
    for transform in pipeline:
        if str(transform.get('type', '')).split('.')[-1] in names and key in transform:
            return transform[key]
    return None


def config_sizes(cfg: Config) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """``((test H, W), (train H, W))`` of a config.

    Test: the ``scale`` of the test pipeline's ``Resize`` (mmcv order ``(w, h)``), else
    ``img_scale``; train: ``crop_size`` (``(h, w)``, MMSeg order), else the test size;
    default 224 x 224.
    """
    scale = _transform_arg(_pipeline(cfg, 'test_dataloader'), ('Resize', ), 'scale')
    if scale is None:
        scale = cfg.get('img_scale')
    if isinstance(scale, (int, float)):
        scale = (scale, scale)
    test_hw = (int(scale[1]), int(scale[0])) if scale else (224, 224)
    crop = _transform_arg(_pipeline(cfg, 'train_dataloader'), ('RandomCrop', ), 'crop_size')
    crop = crop or cfg.get('crop_size')
    if isinstance(crop, (int, float)):
        crop = (crop, crop)
    train_hw = (int(crop[0]), int(crop[1])) if crop else test_hw
    return test_hw, train_hw


def make_batch(batch_size: int, hw: Tuple[int, int], training: bool, seed: int = 0) -> dict:
    """A collated batch of random inputs, as a dataloader would give it (with the clip-level
    audio ``audio_clip [5, 96, 64]`` per sample, which frame-level models ignore)."""
    gen = torch.Generator().manual_seed(seed)
    height, width = hw
    imgs, audio, clips, samples = [], [], [], []
    for i in range(batch_size):
        imgs.append(torch.randint(0, 256, (3, height, width), generator=gen, dtype=torch.uint8))
        clips.append(torch.randn(5, 96, 64, generator=gen) * 2 - 3)
        audio.append(clips[-1][0].clone())
        sounding = i % 2 == 0
        sample = SegDataSample(
            metainfo=dict(
                img_shape=hw,
                ori_shape=hw,
                pad_shape=hw,
                condition='positive' if sounding else 'silence',
                is_sounding=int(sounding)))
        if training:
            gt = torch.zeros(1, height, width, dtype=torch.long)
            if sounding:
                gt[:, height // 4:3 * height // 4, width // 4:3 * width // 4] = 1
            sample.gt_sem_seg = PixelData(data=gt)
        samples.append(sample)
    return dict(inputs=dict(img=imgs, audio=audio, audio_clip=clips), data_samples=samples)


def build_model(cfg: Config, checkpoint: Optional[str], device: str) -> torch.nn.Module:
    """The config's model (with its train_cfg, so that it can train) on ``device``."""
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device)


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_iterations(fn: Callable[[], object], warmup: int, iters: int, device: str) -> List[float]:
    """Seconds of each of ``iters`` timed calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def summarize(times: List[float], batch_size: int) -> dict:
    median = statistics.median(times)
    return dict(
        median_s=median,
        min_s=min(times),
        mean_s=statistics.fmean(times),
        per_frame_s=median / batch_size,
        fps=batch_size / median)


def peak_memory_mib(device: str) -> float:
    """CUDA: max allocated tensor memory; CPU: peak resident set size of the process (MiB)."""
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _reset_peak(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()


def bench_inference(model, args, hw) -> dict:
    _reset_peak(args.device)
    model.eval()
    data = make_batch(args.batch_size, hw, training=False)

    def step():
        with torch.no_grad():
            model.test_step(data)

    result = summarize(time_iterations(step, args.warmup, args.iters, args.device), args.batch_size)
    result['peak_mib'] = peak_memory_mib(args.device)
    return result


def bench_training(model, cfg, args, hw) -> dict:
    from mmengine.optim import build_optim_wrapper
    _reset_peak(args.device)
    model.train()
    optim_cfg = cfg.get('optim_wrapper') or dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4))
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    data = make_batch(args.batch_size, hw, training=True)

    def step():
        model.train_step(data, optim_wrapper)

    result = summarize(time_iterations(step, args.warmup, args.iters, args.device), args.batch_size)
    result['peak_mib'] = peak_memory_mib(args.device)
    return result


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    test_hw, train_hw = config_sizes(cfg)
    if args.size:
        test_hw = train_hw = tuple(args.size)
    model = build_model(cfg, args.checkpoint, args.device)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    memory = 'max allocated (CUDA)' if args.device.startswith('cuda') else \
        'peak RSS of the process (ru_maxrss; CPU torch keeps no allocator statistics)'
    print(f'config {args.config}: {params:.3f} M parameters, device {args.device}, '
          f'{torch.get_num_threads()} torch threads, {args.warmup} warm-up + {args.iters} '
          f'timed iterations')
    out = {}
    if args.mode in ('infer', 'both'):
        r = bench_inference(model, args, test_hw)
        out['infer'] = r
        print(f'inference, batch {args.batch_size} x 3 x {test_hw[0]} x {test_hw[1]}: '
              f'{r["median_s"] * 1e3:.1f} ms/batch median (min {r["min_s"] * 1e3:.1f}, mean '
              f'{r["mean_s"] * 1e3:.1f}), latency {r["per_frame_s"] * 1e3:.2f} ms/frame')
        print(f'inference FPS: {r["fps"]:.2f} frames/s')
        print(f'memory after inference: {r["peak_mib"]:.1f} MiB {memory}')
    if args.mode in ('train', 'both'):
        r = bench_training(model, cfg, args, train_hw)
        out['train'] = r
        print(f'training, batch {args.batch_size} x 3 x {train_hw[0]} x {train_hw[1]}: '
              f'{r["median_s"] * 1e3:.1f} ms/step median (min {r["min_s"] * 1e3:.1f}, mean '
              f'{r["mean_s"] * 1e3:.1f})')
        print(f'training throughput: {r["fps"]:.2f} samples/s')
        print(f'memory after training: {r["peak_mib"]:.1f} MiB {memory}')
    return out


if __name__ == '__main__':
    main()
