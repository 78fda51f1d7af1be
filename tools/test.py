# Copyright (c) mmavs contributors. All rights reserved.
"""Test a checkpoint, MMSeg style; one run evaluates every audio condition of the test set.

Examples::

    python tools/test.py CONFIG CHECKPOINT --work-dir work_dirs/eval
    python tools/test.py CONFIG CHECKPOINT --show-dir vis      # overlays, bars, histograms
    python tools/test.py CONFIG CHECKPOINT --gate-thr 0.5      # gate masks by similarity
    python tools/test.py CONFIG CHECKPOINT --out preds --out-format prob   # PNGs per condition
    bash tools/dist_test.sh CONFIG CHECKPOINT 2

The robust metric writes its table (``robust_metrics.json`` / ``.md``) into the work dir. Without
``--gate-thr``, a threshold stored in the checkpoint's meta by
``tools/analysis_tools/calibrate_gate.py`` is used. A run stopped by an error (a bad file) still
writes the tables of every condition it finished (``robust_metrics_partial.json`` / ``.md``).
``--out`` saves the predictions in the layout of ``tools/analysis_tools/eval_predictions.py``
(``docs/benchmark.md``).
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.utils.checkpoint import (CheckpointLoadError, add_unsafe_load_argument,
                                    apply_unsafe_load_argument, read_checkpoint_meta)
from mmavs.utils.gate import resolve_gate_thr


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) an audio-visual segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='where logs and the result table are written '
        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--out',
        help='directory to save every prediction as a PNG, in the layout '
        'tools/analysis_tools/eval_predictions.py reads: '
        '<out>/<condition>/<split>/<category>/<name>/<name>_<i>.png (MS3: no <category>)')
    parser.add_argument(
        '--out-format',
        choices=('mask', 'prob'),
        default='mask',
        help='what --out writes: the binary mask (0/255, gated when the model gates) or the '
        'probability map (16-bit, never gated, keeps the F-score exact); default mask')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--show-dir',
        help='directory for per-sample overlays (vis_data/vis_image/<condition>/), '
        'overlay grids, per-condition bar charts and similarity histograms '
        '(relative to the work dir unless absolute)')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of --show (s)')
    parser.add_argument(
        '--gate-thr',
        type=float,
        default=None,
        help='similarity-probability threshold for mask gating at inference '
        '(default: the checkpoint meta\'s calibrated gate_thr, else the config)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    add_unsafe_load_argument(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _evaluators(cfg):
    evaluator = cfg.get('test_evaluator', None)
    if evaluator is None:
        return []
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]


def build_config(args) -> Config:
    """Load the config, apply command-line overrides and wire the visualisation/output options."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    # --gate-thr > the threshold calibrated into the checkpoint's meta > model.gate_thr
    meta = read_checkpoint_meta(args.checkpoint)
    gate_thr = resolve_gate_thr(args.gate_thr, meta, cfg.model.get('gate_thr'), args.checkpoint)
    if args.gate_thr is None and meta.get('gate_thr') is not None:
        print(f'gating with the calibrated threshold {gate_thr} of {args.checkpoint}')
    if gate_thr is not None:
        if cfg.model.get('similarity_head') is None:
            raise SystemExit(f'--gate-thr: the model of {args.config} has no similarity head, '
                             'so there is no similarity score to gate by')
        cfg.model.gate_thr = gate_thr
    for evaluator in _evaluators(cfg):
        if evaluator.get('type') == 'RobustAVSMetric':
            evaluator.setdefault('output_dir', cfg.work_dir)
            if gate_thr is not None:
                evaluator.gate_thr = gate_thr
    if args.show or args.show_dir:
        hooks = cfg.default_hooks
        hooks.visualization = ConfigDict(
            hooks.get('visualization', dict(type='AVSegVisualizationHook')))
        hooks.visualization.draw = True
        hooks.visualization.show = args.show
        hooks.visualization.wait_time = args.wait_time
        if args.show_dir:
            hooks.visualization.interval = hooks.visualization.get('interval', 50)
            show_dir = args.show_dir if osp.isabs(args.show_dir) else osp.join(
                cfg.work_dir, args.show_dir)
            cfg.visualizer['save_dir'] = show_dir
            custom_hooks = list(cfg.get('custom_hooks', []))
            custom_hooks.append(dict(type='RobustVisualizationHook', show_dir=show_dir))
            cfg.custom_hooks = custom_hooks
    if args.out:  # one folder per audio condition, in the AVSBench prediction layout
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='SavePredictionsHook', out_dir=args.out, out_format=args.out_format)
        ]
    return cfg


def write_finished_conditions(runner, error: BaseException) -> None:
    """After a failed test run, write the tables of every audio condition it finished."""
    from mmavs.evaluation import RobustAVSMetric
    dataset = runner.test_dataloader.dataset
    conditions, per_condition = getattr(dataset, 'conditions',
                                        None), getattr(dataset, 'num_samples', None)
    if not conditions or not per_condition:
        return
    for metric in runner.test_evaluator.metrics:
        if isinstance(metric, RobustAVSMetric):
            metric.evaluate_finished({c: per_condition
                                      for c in conditions}, f'{type(error).__name__}: {error}')


def main(argv=None):
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    try:
        cfg = build_config(args)
    except (CheckpointLoadError, FileNotFoundError) as exc:  # the message names the file
        raise SystemExit(f'error: {exc}') from None
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    try:
        metrics = runner.test()
    except CheckpointLoadError as exc:
        raise SystemExit(f'error: {exc}') from None
    except Exception as exc:
        import torch.distributed as dist
        if not (dist.is_available() and dist.is_initialized()):
            write_finished_conditions(runner, exc)
        raise
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return metrics


if __name__ == '__main__':
    main()
