# Copyright (c) mmavs contributors. All rights reserved.
"""Train an mmavs (or any MMSeg) model from a config, MMSeg style.

Examples::

    python tools/train.py \
        configs/tpavi/tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112.py \
        --work-dir work_dirs/robust
    python tools/train.py CONFIG --resume                  # resume from the last checkpoint
    python tools/train.py CONFIG --resume work_dirs/x/epoch_3.pth
    python tools/train.py CONFIG --cfg-options train_cfg.max_epochs=2 randomness.seed=1
    bash tools/dist_train.sh CONFIG 2                       # torchrun, MMEngine DDP
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.utils.checkpoint import (CheckpointLoadError, add_unsafe_load_argument,
                                    apply_unsafe_load_argument)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train an audio-visual segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and checkpoints '
        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        metavar='CHECKPOINT',
        help='resume training: without a value from the latest checkpoint in the work dir, '
        'or from the given checkpoint')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision (CUDA only; ignored on CPU)')
    parser.add_argument('--seed', type=int, default=None, help='random seed (overrides config)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs, e.g. '
        'train_cfg.max_epochs=2 "model.gate_thr=0.5"')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    add_unsafe_load_argument(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.seed is not None:
        cfg.randomness = dict(cfg.get('randomness', {}), seed=args.seed)
    if args.amp:
        import torch
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            print_log('--amp ignored: mixed precision needs a CUDA device', logger='current')
    if args.resume == 'auto':
        if find_latest_checkpoint(cfg.work_dir) is None:
            raise SystemExit(f'--resume: no checkpoint to resume from in {cfg.work_dir} (no '
                             "'last_checkpoint' file); check --work-dir, or start a new training "
                             'without --resume')
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise SystemExit(f'--resume: checkpoint not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def run(cfg: Config) -> None:
    """Build the Runner of ``cfg`` and train."""
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()
    _shutdown_distributed()


def main(argv=None):
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    cfg = build_config(args)
    try:
        run(cfg)
    except CheckpointLoadError as exc:  # --resume / load_from: truncated, corrupt or refused
        raise SystemExit(f'error: {exc}') from None


def _shutdown_distributed() -> None:
    """Tear the process group down explicitly (avoids a sporadic abort at exit under torchrun)."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
        dist.barrier()
        dist.destroy_process_group()
        print(f'[mmavs] rank {rank}/{world_size}: training finished', flush=True)


if __name__ == '__main__':
    main()
