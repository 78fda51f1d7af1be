# Copyright (c) mmavs contributors. All rights reserved.
"""Calibrate the similarity gating threshold on the robust validation set.

Examples::

    python tools/analysis_tools/calibrate_gate.py CONFIG CHECKPOINT --work-dir work_dirs/calib
    python tools/analysis_tools/calibrate_gate.py CONFIG CHECKPOINT \
        --out-ckpt work_dirs/robust/epoch_60_gated.pth --max-pos-miou-drop 0.01

The model runs once over ``<split>_dataloader`` (the robust val set: positive, silence, noise and
off-screen pairs), without a Runner; every frame's similarity probability and metric statistics
are kept, and thresholds ``0, 0.01, ..., 1`` are swept (``mmavs.evaluation.calibration``). The rule
(``--strategy best``, default): the lowest G-FPR (then G-false_alarm, then the highest positive
mIoU) among thresholds whose positive mIoU is within ``--max-pos-miou-drop`` of the ungated one;
ties -> the middle threshold. ``--strategy strictest``: the largest threshold within that bound
(spends the positive budget on negatives the calibration split cannot show, e.g. the held-out
noise and unseen recordings of AVSBench-Robust; the main job uses it).

``--bootstrap N`` (default 200) also reports how steady the choice is: the rule is applied to N
resamples of the calibration videos drawn with replacement (``mmavs.evaluation.gate_bootstrap``) and
the 5-95 % range of the thresholds it picks is printed, stored and shaded in the plot. A wide range
means the split is too small to pin the gate down (``docs/experiments.md``).

Writes into ``--work-dir``: ``gate_calibration.png`` (positive mIoU, G-FPR, G-false alarm and
G-mIoU against the threshold, the chosen one marked), ``gate_calibration.json`` (the sweep and the
choice). ``--out-ckpt`` writes a copy of the checkpoint with ``meta['gate_thr']`` set, which
``mmavs.apis.init_model`` and ``tools/infer.py`` use as their default threshold.
"""
import argparse
import json
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import DictAction

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.apis import init_model
from mmavs.evaluation import (DEFAULT_THRESHOLDS, GATE_STRATEGIES, bootstrap_gate_thresholds,
                              build_dataloader, choose_gate_threshold, collect_condition_results,
                              format_table, gated_report, sweep_gate_thresholds)
from mmavs.utils.checkpoint import (CheckpointLoadError, add_unsafe_load_argument,
                                    apply_unsafe_load_argument, load_checkpoint_file)
from mmavs.utils.formatting import json_safe
from mmavs.visualization import plot_gate_calibration


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Calibrate the similarity gating threshold')
    parser.add_argument('config', help='config file (its val_dataloader is the robust val set)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--split',
        default='val',
        choices=['val', 'test'],
        help='which dataloader of the config to calibrate on (default val; '
        'calibrating on test overfits the test set)')
    parser.add_argument(
        '--max-pos-miou-drop',
        type=float,
        default=0.01,
        help='allowed drop of the positive mIoU (fraction; default 0.01)')
    parser.add_argument(
        '--strategy',
        default='best',
        choices=GATE_STRATEGIES,
        help='best: lowest G-FPR, ties -> highest positive mIoU, middle threshold '
        '(default); strictest: the largest threshold within the mIoU bound')
    parser.add_argument(
        '--steps', type=int, default=101, help='thresholds swept, evenly over [0, 1] (default 101)')
    parser.add_argument(
        '--work-dir', default='work_dirs/gate_calibration', help='folder for the plot and the JSON')
    parser.add_argument(
        '--bootstrap',
        type=int,
        default=200,
        metavar='N',
        help='report the spread of the chosen threshold over N bootstrap '
        'resamples of the calibration videos (0: off; default 200)')
    parser.add_argument('--out-ckpt', help='write a copy of the checkpoint with meta["gate_thr"]')
    parser.add_argument(
        '--batch-size', type=int, default=None, help='batch size (default: the config\'s)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, ...')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    add_unsafe_load_argument(parser)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error(f'--steps must be >= 2, found {args.steps}')
    if args.max_pos_miou_drop < 0:
        parser.error(f'--max-pos-miou-drop must be >= 0, found {args.max_pos_miou_drop}')
    return args


def tradeoff_table(sweep, chosen, every: float = 0.1) -> str:
    """A few sweep rows (every ``every`` and the chosen one) as text."""
    keys = ('positive_mIoU', 'positive_F', 'G-FPR', 'G-false_alarm', 'G-mIoU')
    lines = [f'{"threshold":>9} ' + ' '.join(f'{k:>13}' for k in keys)]
    step = max(1, int(round(every * (len(sweep) - 1))))
    shown = set(range(0, len(sweep), step)) | {len(sweep) - 1}
    for i, row in enumerate(sweep):
        mark = ' <- chosen' if row['threshold'] == chosen['threshold'] else ''
        if i in shown or mark:
            lines.append(f'{row["threshold"]:>9.2f} ' + ' '.join(f'{row[k]:>13.4f}'
                                                                 for k in keys) + mark)
    return '\n'.join(lines)


def write_checkpoint(src: str, dst: str, gate_thr: float, info: dict) -> None:
    """Copy ``src`` to ``dst`` with ``meta['gate_thr']`` (and the calibration summary) set."""
    ckpt = load_checkpoint_file(src)
    if not isinstance(ckpt, dict):
        raise ValueError(f'expected a checkpoint dict in {src}, found {type(ckpt).__name__}')
    if 'state_dict' not in ckpt:  # a plain state dict: wrap it so that it can carry meta
        ckpt = dict(state_dict=ckpt)
    meta = dict(ckpt.get('meta') or {})
    meta['gate_thr'] = float(gate_thr)
    meta['gate_calibration'] = info
    ckpt['meta'] = meta
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(ckpt, dst)


def main(argv=None) -> dict:
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    try:
        model = init_model(args.config, args.checkpoint, args.device, cfg_options=args.cfg_options)
    except (CheckpointLoadError, FileNotFoundError) as exc:  # the message names the file
        raise SystemExit(f'error: {exc}') from None
    if getattr(model, 'similarity_head', None) is None:
        raise SystemExit(f'error: the model of {args.config} has no similarity head: there is '
                         'no score to gate by')
    loader = build_dataloader(model.cfg, args.split, args.batch_size)
    data = collect_condition_results(model, loader, progress=not args.no_progress)
    base = gated_report(data.stats, data.scores, None)
    thresholds = [i / (args.steps - 1) for i in range(args.steps)]
    if args.steps == 101:
        thresholds = list(DEFAULT_THRESHOLDS)
    sweep = sweep_gate_thresholds(data.stats, data.scores, thresholds)
    baseline_miou = base['conditions']['positive']['mIoU']
    chosen = choose_gate_threshold(sweep, baseline_miou, args.max_pos_miou_drop, args.strategy)
    thr = chosen['threshold']

    print(format_table(base, title=f'{args.split} set, no gate'))
    print(
        format_table(
            gated_report(data.stats, data.scores, thr),
            title=f'{args.split} set, gated (similarity >= {thr:g})'))
    print('\ntrade-off (gated metrics against the threshold):')
    print(tradeoff_table(sweep, chosen))
    row = chosen['row']
    print(f'\nrule: {chosen["rule"]}')
    print(f'chosen gate threshold: {thr:g}  (positive mIoU {baseline_miou:.4f} -> '
          f'{row["positive_mIoU"]:.4f}, G-FPR {sweep[0]["G-FPR"]:.4f} -> {row["G-FPR"]:.4f}, '
          f'G-false_alarm {sweep[0]["G-false_alarm"]:.4f} -> {row["G-false_alarm"]:.4f}; '
          f'{len(chosen["tied"])} tied thresholds '
          f'[{min(chosen["tied"]):g}, {max(chosen["tied"]):g}])')

    spread = None
    if args.bootstrap > 0:
        draws = bootstrap_gate_thresholds(data.stats, data.scores, data.videos, thresholds,
                                          args.max_pos_miou_drop, args.strategy, args.bootstrap)
        low, median, high = (
            float(x) for x in np.nanpercentile(  # swept values, not between
                draws, [5, 50, 95], method='nearest'))
        spread = dict(
            resamples=args.bootstrap,
            videos=len(set().union(*data.videos.values())),
            p5=low,
            median=median,
            p95=high)
        print(f'bootstrap over the {spread["videos"]} {args.split} videos ({args.bootstrap} '
              f'resamples): the rule picks {low:g}-{high:g} (5-95 %), median {median:g}')

    os.makedirs(args.work_dir, exist_ok=True)
    plot = plot_gate_calibration(
        sweep,
        chosen,
        osp.join(args.work_dir, 'gate_calibration.png'),
        title=f'Gate calibration on {args.split} ({osp.basename(args.checkpoint)})',
        spread=None if spread is None else (spread['p5'], spread['p95']))
    info = dict(
        gate_thr=thr,
        split=args.split,
        strategy=args.strategy,
        rule=chosen['rule'],
        max_pos_miou_drop=args.max_pos_miou_drop,
        no_gate_positive_mIoU=baseline_miou,
        positive_mIoU=row['positive_mIoU'],
        G_FPR=row['G-FPR'],
        G_false_alarm=row['G-false_alarm'],
        G_mIoU=row['G-mIoU'],
        tied=[min(chosen['tied']), max(chosen['tied'])],
        num_frames={c: data.num_frames(c)
                    for c in data.conditions},
        bootstrap=spread)
    summary = dict(
        config=args.config, checkpoint=args.checkpoint, calibration=info, no_gate=base, sweep=sweep)
    with open(osp.join(args.work_dir, 'gate_calibration.json'), 'w') as f:
        json.dump(json_safe(summary), f, indent=2)
    print(f'wrote {plot} and {osp.join(args.work_dir, "gate_calibration.json")}')
    if args.out_ckpt:
        write_checkpoint(args.checkpoint, args.out_ckpt, thr, json_safe(info))
        print(f'wrote {args.out_ckpt} with meta["gate_thr"] = {thr:g}')
    return summary


if __name__ == '__main__':
    main()
