# Copyright (c) mmavs contributors. All rights reserved.
"""AVSegFormer-b5 on CPU: mmavs against a re-statement of the authors' forward, same input.

Usage::

    python benchmarks/bench_avsegformer.py [--size 224] [--repeats 3] [--threads 2] [--tiny]

Both models are the full PVT-v2-b5 AVSegFormer-robust (random weights, eval for inference):
mmavs's (``configs/avsegformer/avsegformer-robust_pvt-v2-b5_1xb2-30e_avsbench-robust-s4-224x224
.py``, the deformable attention from mmcv, whose pure-PyTorch path runs on a CPU) and
``tests/mmavs_testing/avsegformer_reference.py``, which computes the authors' forward with their
module layout and their PyTorch fallback of the deformable attention (``grid_sample``). Rows:

* inference latency per 5-frame clip (``[5, 3, S, S]`` frames + ``[5, 96, 64]`` log-mel):
  ``AVSegmentor.predict`` against the reference's forward;
* one training step on 2 annotated frames (forward, the mask + mix Dice losses and the
  similarity BCE, backward): ``AVSegmentor.loss`` against the reference with the same losses.

Times are medians over ``--repeats`` runs after a warm-up, in one process, interleaved (both
models see the same machine load). ``--tiny`` uses reduced sizes (seconds instead of minutes).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / 'tests')]

from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

import mmavs  # noqa: E402,F401
from mmavs.models.losses.functional import soft_dice_loss  # noqa: E402
from mmavs_testing.avsegformer_reference import reference_state_dict  # noqa: E402
from mmavs_testing.cli import load_tool  # noqa: E402
from mmavs_testing.models import make_samples  # noqa: E402

CONFIG = REPO / 'configs' / 'avsegformer' / (
    'avsegformer-robust_pvt-v2-b5_1xb2-30e_avsbench-robust-s4-224x224.py')
TINY = dict(pvt_depths=(1, 1, 2, 1), num_queries=50, enc_layers=2, dec_layers=2, qg_layers=2)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=224, help='frame side (multiple of 32)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--tiny', action='store_true', help='reduced depths (a quick check)')
    return parser.parse_args()


def build_mmavs(tiny: bool):
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.backbone.init_cfg = None
    cfg.model.audio_backbone.init_cfg = None
    if tiny:
        cfg.model.backbone.arch = dict(
            embed_dims=64,
            num_layers=TINY['pvt_depths'],
            num_heads=(1, 2, 5, 8),
            mlp_ratios=(4, 4, 4, 4),
            sr_ratios=(8, 4, 2, 1))
        cfg.model.decode_head.update(
            num_queries=TINY['num_queries'],
            num_encoder_layers=TINY['enc_layers'],
            num_decoder_layers=TINY['dec_layers'],
            num_generator_layers=TINY['qg_layers'])
    return MODELS.build(cfg.model)


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    init_default_scope('mmseg')
    sizes = TINY if args.tiny else {}
    reference, state = reference_state_dict(seed=0, robust=True, **sizes)
    ours = build_mmavs(args.tiny)
    converted, _ = load_tool('tools/model_converters/avsegformer2mmavs.py').convert(state)
    ours.load_state_dict(converted, strict=True)

    gen = torch.Generator().manual_seed(0)
    s = args.size
    clip = torch.randn(5, 3, s, s, generator=gen), torch.randn(5, 96, 64, generator=gen)
    frames, log_mel = clip
    samples = make_samples([1] * 5, size=s)

    def ours_infer():
        with torch.no_grad():
            ours.predict(dict(img=frames, audio=log_mel), samples)

    def ref_infer():
        with torch.no_grad():
            reference(frames, log_mel)

    train_frames, train_mel = frames[:2], log_mel[:2]
    train_samples = make_samples([1, 0], size=s)
    masks = torch.stack([x.gt_sem_seg.data[0] for x in train_samples]).float()
    labels = torch.tensor([1.0, 0.0])

    def ours_step():
        losses = ours.loss(dict(img=train_frames, audio=train_mel), train_samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    def ref_step():
        out = reference(train_frames, train_mel)
        mix = F.interpolate(
            out['mask_feature'].mean(1, keepdim=True),
            size=(s, s),
            mode='bilinear',
            align_corners=False)
        loss = (
            soft_dice_loss(out['pred'][:, 0], masks).mean() +
            0.1 * soft_dice_loss(mix[:, 0], masks).mean() +
            F.binary_cross_entropy_with_logits(out['cosine'], labels))
        loss.backward()

    ours.eval()
    reference.eval()
    rows = [('inference, 5-frame clip', timed(ours_infer,
                                              args.repeats), timed(ref_infer, args.repeats))]
    ours.train()
    reference.train()
    rows.append(('train step, 2 frames', timed(ours_step,
                                               args.repeats), timed(ref_step, args.repeats)))
    print(f'AVSegFormer-robust {"(tiny) " if args.tiny else ""}PVT-v2-b5 at {s}x{s}, '
          f'{args.threads} thread(s), load {os.getloadavg()[0]:.2f}; deformable attention: '
          'mmcv multi_scale_deformable_attn_pytorch (CPU) vs the reference grid_sample')
    print(f'{"":26} {"mmavs":>9} {"authors":>9} {"ratio":>7}')
    for name, mine, theirs in rows:
        print(f'{name:26} {mine:8.2f}s {theirs:8.2f}s {theirs / mine:6.2f}x')


if __name__ == '__main__':
    main()
