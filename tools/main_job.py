# Copyright (c) mmavs contributors. All rights reserved.
"""The main job: reproduce the paper's claim on SynthAVS in one command.

Steps (each resumable; a finished step is skipped when the command is run again):

1. generate SynthAVS (S4-like, optionally MS3-like) in the AVSBench layout;
2. cache the log-mel examples and write the AVSBench-Robust manifest;
3. train the positive-only baseline and the debiased (robust) model: same model, schedule and data,
   differing only by the negatives in the training stream and the similarity loss;
4. evaluate both in one robust test run each (positive, silence, noise, off-screen and the real
   unseen recordings), with and without similarity gating, and the robust model also at its random
   initialisation (similarity histogram before training);
5. print one comparison table, write it as Markdown/JSON with plots under the work dir, and check
   the targets of the experiment.

Usage::

    python tools/main_job.py                      # full run (about 20 minutes on 2 CPU cores)
    python tools/main_job.py --quick              # minutes; small data and schedule
    python tools/main_job.py --subsets s4 ms3     # also the MS3-like split
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import mmavs  # noqa: E402,F401  (environment fixes + registration)
from mmavs.evaluation.comparison import (check_targets, comparison_rows,  # noqa: E402
                                         format_comparison_markdown, format_comparison_table)

#: Data sizes (videos per split) and epochs of the two modes.
FULL = dict(s4=(240, 60, 60), ms3=(120, 30, 30), epochs=None)
QUICK = dict(s4=(48, 12, 12), ms3=(24, 6, 6), epochs=4)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/main_job', help='outputs and checkpoints')
    parser.add_argument('--data-root', default=None,
                        help='SynthAVS root (default data/SynthAVS, data/SynthAVS-quick in --quick)')
    parser.add_argument('--subsets', nargs='+', default=['s4'], choices=['s4', 'ms3'])
    parser.add_argument('--quick', action='store_true', help='small data and schedule (minutes)')
    parser.add_argument('--epochs', type=int, default=None, help='override the configs\' epochs')
    parser.add_argument('--seed', type=int, default=0, help='data and training seed')
    parser.add_argument('--gate-thr', type=float, default=0.5,
                        help='similarity-probability threshold of the gated results')
    parser.add_argument('--no-check', action='store_true',
                        help='exit 0 even when a target of the experiment is missed')
    return parser.parse_args(argv)


def log(msg: str) -> None:
    print(f'[main job {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def run(cmd: List[str], log_path: str) -> None:
    """Run a repo tool, streaming its progress lines and keeping the whole output in a log file."""
    log('$ ' + ' '.join(osp.relpath(c, REPO) if osp.isabs(c) and c.startswith(REPO) else c
                        for c in cmd))
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    with open(log_path, 'w') as f:
        proc = subprocess.Popen([sys.executable] + cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            f.write(line)
            if any(key in line for key in ('Epoch(train)', 'Epoch(val) [', 'Saving checkpoint',
                                           'SynthAVS in', 'Error', 'error:', 'videos', 'wrote')):
                if 'Epoch(val) [' in line and '/positive' not in line:
                    continue
                print('    ' + line.rstrip()[-200:], flush=True)
        if proc.wait() != 0:
            raise SystemExit(f'command failed (exit {proc.returncode}); see {log_path}')


def data_root_overrides(config: str, data_root: str) -> List[str]:
    """``--cfg-options`` that point every dataset of ``config`` at ``data_root``."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    options = []

    def visit(node, prefix):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'data_root':
                    options.append(f'{prefix}{key}={data_root}')
                else:
                    visit(value, f'{prefix}{key}.')

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        visit(cfg[loader], f'{loader}.')
    return options


def last_epoch_checkpoint(work_dir: str, epochs: int) -> str:
    return osp.join(work_dir, f'epoch_{epochs}.pth')


def train(name: str, config: str, work_dir: str, options: List[str], epochs: int) -> str:
    ckpt = last_epoch_checkpoint(work_dir, epochs)
    if osp.isfile(ckpt):
        log(f'{name}: {osp.relpath(ckpt, REPO)} exists, training skipped')
        return ckpt
    cmd = [osp.join(REPO, 'tools/train.py'), config, '--work-dir', work_dir]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')  # an interrupted run continues from its last checkpoint
    run(cmd + ['--cfg-options'] + options, osp.join(work_dir, 'train_stdout.log'))
    return ckpt


def evaluate(name: str, config: str, ckpt: str, out_dir: str, options: List[str],
             gate_thr: float) -> Dict:
    table = osp.join(out_dir, 'robust_metrics.json')
    if not osp.isfile(table) or osp.getmtime(table) < osp.getmtime(ckpt):
        run([osp.join(REPO, 'tools/test.py'), config, ckpt, '--work-dir', out_dir, '--show-dir',
             'vis', '--cfg-options', f'test_evaluator.gate_thr={gate_thr}'] + options,
            osp.join(out_dir, 'test_stdout.log'))
    with open(table) as f:
        return json.load(f)


def save_initial_checkpoint(config: str, path: str, seed: int) -> str:
    """The robust model at its random initialisation (for the 'before training' histogram)."""
    if osp.isfile(path):
        return path
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    set_random_seed(seed)
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=0)), path)
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    mode = QUICK if args.quick else FULL
    data_root = args.data_root or ('data/SynthAVS-quick' if args.quick else 'data/SynthAVS')
    data_root = osp.abspath(osp.join(REPO, data_root))
    work_dir = osp.abspath(osp.join(REPO, args.work_dir))
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()

    sizes = {f'{s}_{split}': (mode[s][i] if s in args.subsets else 0)
             for s in ('s4', 'ms3') for i, split in enumerate(('train', 'val', 'test'))}
    log(f'1/5 SynthAVS in {osp.relpath(data_root, REPO)} ({sizes})')
    run([osp.join(REPO, 'tools/dataset_converters/make_synth_avs.py'), data_root, '--seed',
         str(args.seed), '--workers', '2'] +
        [f'--{key.replace("_", "-")}={value}' for key, value in sizes.items()],
        osp.join(work_dir, 'logs', 'make_synth_avs.log'))

    log('2/5 log-mel cache and AVSBench-Robust manifests')
    run([osp.join(REPO, 'tools/dataset_converters/cache_log_mel.py'), data_root],
        osp.join(work_dir, 'logs', 'cache_log_mel.log'))
    for subset in args.subsets:
        run([osp.join(REPO, 'tools/dataset_converters/make_robust_manifest.py'), data_root,
             '--subset', subset], osp.join(work_dir, 'logs', f'manifest_{subset}.log'))

    results = {}
    for subset in args.subsets:
        reports = {}
        for name in ('baseline', 'robust'):
            config = osp.join(REPO, f'configs/synth/{name}_synth_{subset}.py')
            from mmengine.config import Config
            epochs = args.epochs or mode['epochs'] or Config.fromfile(config).train_cfg.max_epochs
            options = data_root_overrides(config, data_root) + [
                f'train_cfg.max_epochs={epochs}', f'randomness.seed={args.seed}']
            if args.quick:
                options += ['train_cfg.val_interval=1000']
            run_dir = osp.join(work_dir, subset, name)
            log(f'3/5 [{subset}] train {name} ({epochs} epochs)')
            ckpt = train(name, config, run_dir, options, epochs)
            log(f'4/5 [{subset}] evaluate {name} under every audio condition')
            reports[name] = evaluate(name, config, ckpt, osp.join(run_dir, 'test'), options,
                                     args.gate_thr)
            if name == 'robust':
                init = save_initial_checkpoint(config, osp.join(run_dir, 'init', 'init.pth'),
                                               args.seed)
                evaluate(name, config, init, osp.join(run_dir, 'init', 'test'), options,
                         args.gate_thr)
        results[subset] = reports

    log('5/5 comparison')
    summary = dict(data_root=data_root, quick=args.quick, gate_thr=args.gate_thr, subsets={})
    all_ok = True
    for subset, reports in results.items():
        rows = comparison_rows(reports['baseline'], reports['robust'])
        checks = check_targets(reports['baseline'], reports['robust'])
        all_ok &= all(c['ok'] for c in checks if c['required'])
        print(f'\nSynthAVS {subset.upper()}: positive-only baseline vs. debiased model '
              f'(gate: similarity >= {args.gate_thr})')
        print(format_comparison_table(rows))
        print('targets:')
        for c in checks:
            status = 'ok' if c['ok'] else ('MISSED' if c['required'] else 'not met')
            print(f"  [{status}] {c['name']}: {c['value']:.4f} ({c['rule']})")
        summary['subsets'][subset] = dict(rows=rows, targets=checks)
        with open(osp.join(work_dir, f'comparison_{subset}.md'), 'w') as f:
            f.write(format_comparison_markdown(rows, checks, subset, args.gate_thr))
        _plots(work_dir, subset, reports)
    with open(osp.join(work_dir, 'comparison.json'), 'w') as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    log(f'done in {(time.time() - start) / 60:.1f} min; results in '
        f'{osp.relpath(work_dir, REPO)}/ (comparison_*.md, comparison.json, plots/, */vis/)')
    if not all_ok:
        log('some targets were missed (see above)')
        return 0 if args.no_check else 1
    return 0


def _plots(work_dir: str, subset: str, reports: Dict) -> None:
    from mmavs.visualization import plot_condition_bars
    out = osp.join(work_dir, 'plots')
    for name, report in reports.items():
        for key in ('no_gate', 'gated'):
            if key in report:
                plot_condition_bars(report[key], osp.join(out, f'{subset}_{name}_{key}_bars.png'),
                                    title=f'{subset.upper()} {name} ({key.replace("_", " ")})')


if __name__ == '__main__':
    sys.exit(main())
