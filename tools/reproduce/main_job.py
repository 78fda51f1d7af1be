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

An interrupted training resumes from its last checkpoint. A SynthAVS root made with other
arguments or by another generator version is regenerated, and a run directory left by another
config, other options or other data (``run_fingerprint.txt``) is moved aside to
``<dir>.stale-<time>`` instead of being resumed.

Usage::

    python tools/reproduce/main_job.py                   # full run
    python tools/reproduce/main_job.py --quick           # minutes; small data and schedule
    python tools/reproduce/main_job.py --subsets s4 ms3  # also the MS3-like split
"""
import argparse
import hashlib
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable, Dict, List, Optional, Tuple

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path[:0] = [REPO, HERE]

import mmavs  # noqa: E402,F401  (environment fixes + registration)
from mmavs.synth import MANIFEST_NAME  # noqa: E402
from mmavs.utils.constants import FRAMES_PER_CLIP  # noqa: E402

# isort: off
from comparison import check_targets, comparison_rows  # noqa: E402
from comparison import format_comparison_markdown, format_comparison_table  # noqa: E402
# isort: on

#: The two configs of each subset (configs/tpavi/).
CONFIGS = dict(
    s4=dict(
        baseline='tpavi_mit-tiny_1xb16-60e_synthavs-s4-112x112.py',
        robust='tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112.py'),
    ms3=dict(
        baseline='tpavi_mit-tiny_1xb16-120e_synthavs-ms3-112x112.py',
        robust='tpavi-robust_mit-tiny_1xb16-120e_synthavs-robust-ms3-112x112.py'))

#: Gate calibration rule of the main job (``calibrate``).
GATE_STRATEGY = 'strictest'
#: Data sizes (videos per split), epochs, the val videos of the validations during training and
#: the test videos of the initial model's run, for the two modes. The gate is calibrated on the
#: whole val split, which needs to be large for the chosen threshold to be steady; the
#: validations during training (curves only) look at its first 120 videos. The initial model's
#: run only feeds the similarity histogram before training: the first 120 test videos. Sizes
#: measured: docs/experiments.md. ``draw_interval``: the test runs' sample drawings (MMSeg's
#: SegVisualizationHook), one every that many batches.
FULL = dict(
    s4=(720, 600, 600),
    ms3=(120, 30, 30),
    epochs=None,
    val_videos_in_training=120,
    init_test_videos=120,
    draw_interval=250)
QUICK = dict(
    s4=(48, 12, 12),
    ms3=(24, 6, 6),
    epochs=4,
    val_videos_in_training=6,
    init_test_videos=None,
    draw_interval=None)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/main_job', help='outputs and checkpoints')
    parser.add_argument(
        '--data-root',
        default=None,
        help='SynthAVS root (default data/SynthAVS, data/SynthAVS-quick in --quick)')
    parser.add_argument('--subsets', nargs='+', default=['s4'], choices=['s4', 'ms3'])
    parser.add_argument('--quick', action='store_true', help='small data and schedule (minutes)')
    parser.add_argument('--epochs', type=int, default=None, help='override the configs\' epochs')
    parser.add_argument('--seed', type=int, default=0, help='data and training seed')
    parser.add_argument(
        '--gate-thr',
        type=float,
        default=None,
        help='similarity-probability threshold of the gated results (default: '
        'calibrated on the val split with tools/analysis_tools/calibrate_gate.py)')
    parser.add_argument(
        '--jobs',
        type=int,
        default=os.cpu_count() or 1,
        help='trainings/evaluations run side by side (default: one per core)')
    parser.add_argument(
        '--strict', action='store_true', help='exit 1 when a target of the experiment is missed')
    return parser.parse_args(argv)


def log(msg: str) -> None:
    print(f'[main job {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def _progress_line(line: str) -> bool:
    """Whether a line of a tool's output is worth showing on the console."""
    if 'Epoch(val) [' in line:
        return '/positive' in line  # the metric line of a validation, not its progress
    if 'Epoch(train)' in line:
        return '[10/' in line  # one line per epoch
    return any(
        key in line
        for key in ('Saving checkpoint', 'SynthAVS in', 'Error', 'error:', 'wrote', 'cached'))


def run(cmd: List[str], log_path: str, tag: str = '', threads: Optional[int] = None) -> None:
    """Run a repo tool, streaming its progress lines and keeping the whole output in a log file.

    Args:
        threads (int, optional): Torch/OpenMP threads of the tool (default: torch's own choice).
    """
    log(f'{tag}$ ' +
        ' '.join(osp.relpath(c, REPO) if osp.isabs(c) and c.startswith(REPO) else c for c in cmd))
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(log_path, 'w') as f:
        proc = subprocess.Popen(
            [sys.executable] + cmd,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1)
        for line in proc.stdout:
            f.write(line)
            if _progress_line(line):
                text = line.rstrip().split(' - INFO - ')[-1]  # drop mmengine's time stamp
                print(f'    {tag}{text[:150]}', flush=True)
        if proc.wait() != 0:
            raise SystemExit(f'{tag}command failed (exit {proc.returncode}); see {log_path}')


def run_concurrently(jobs: List[Callable[[int], object]], workers: int) -> List:
    """Run ``jobs`` (each called with its thread budget) ``workers`` at a time.

    On a small CPU machine, several single-threaded trainings use the cores better than one
    multi-threaded training (OpenMP threads of one process stall whenever another process takes
    a core).
    """
    workers = max(1, min(workers, len(jobs)))
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(job, threads) for job in jobs]
        return [future.result() for future in futures]


def data_root_overrides(cfg, data_root: str) -> List[str]:
    """``--cfg-options`` that point every dataset of the loaded config ``cfg`` at ``data_root``."""
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


def schedule_overrides(cfg, epochs: int) -> List[str]:
    """``--cfg-options`` that train the loaded config ``cfg`` for ``epochs`` epochs.

    Besides ``train_cfg.max_epochs``, every parameter scheduler that ended with the config's
    training (``end == max_epochs``) ends at ``epochs`` instead, so a longer or shorter run keeps
    the schedule's shape (e.g. the cosine still decays to its minimum at the last epoch), and a
    ``NegativeMaskWarmupHook`` (by epoch) keeps its share of the training (20 of 60 epochs: 1 of
    4 in ``--quick``).
    """
    options = [f'train_cfg.max_epochs={epochs}']
    old = cfg.train_cfg.max_epochs
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
        prefix = 'param_scheduler.'
    else:
        prefix = 'param_scheduler.{}.'
    for i, scheduler in enumerate(schedulers):
        if scheduler.get('end') == old:
            # a scheduler that would begin after the last epoch never runs; keep it valid
            end = max(epochs, scheduler.get('begin', 0) + 1)
            options.append(f'{prefix.format(i)}end={end}')
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if hook.get('type') == 'NegativeMaskWarmupHook' and hook.get('by_epoch', True):
            warmup = hook.get('warmup_epochs', 20)
            options.append(f'custom_hooks.{i}.warmup_epochs={round(warmup * epochs / old)}')
    return options


def first_videos(cfg, split: str, videos: int) -> List[str]:
    """``--cfg-options`` that make the ``split`` ('val' or 'test') loader of the loaded config
    ``cfg`` read the first ``videos`` videos of its split only (MMEngine's ``indices``: the first
    frames of the split, SynthAVS annotating every val and test frame)."""
    inner = cfg[f'{split}_dataloader'].dataset
    prefix = f'{split}_dataloader.dataset.'
    if 'dataset' in inner:  # a robust wrapper around the positive dataset
        prefix += 'dataset.'
    return [f'{prefix}indices={videos * FRAMES_PER_CLIP}']


def validation_subset(cfg, videos: int) -> List[str]:
    """``--cfg-options`` that validate the loaded config ``cfg`` during training on the first
    ``videos`` videos of its val split only. Calibration and test read the whole split."""
    return first_videos(cfg, 'val', videos)


def last_epoch_checkpoint(work_dir: str, epochs: int) -> str:
    return osp.join(work_dir, f'epoch_{epochs}.pth')


def run_fingerprint(config: str, options: List[str]) -> str:
    """SHA-256 of the fully merged training config (config file + overrides) and the data."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(option.split('=', 1) for option in options))
    data_roots = sorted(
        {o.split('=', 1)[1]
         for o in options if o.split('=', 1)[0].endswith('data_root')})
    digest = hashlib.sha256(cfg.pretty_text.encode('utf-8'))
    for root in data_roots:
        manifest = osp.join(root, MANIFEST_NAME)
        if osp.isfile(manifest):
            with open(manifest, 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()


def prepare_run_dir(name: str, work_dir: str, fingerprint: str) -> None:
    """Keep ``work_dir`` only when it holds this very run (same config, options and data).

    A work dir left by another config, another mmavs version or other data would otherwise be
    resumed (or its checkpoint reused) as if it were this run; it is moved aside to
    ``<work_dir>.stale-<time>`` (nothing is deleted).
    """
    stamp = osp.join(work_dir, 'run_fingerprint.txt')
    if osp.isdir(work_dir) and os.listdir(work_dir):
        found = None
        if osp.isfile(stamp):
            with open(stamp) as f:
                found = f.read().strip()
        if found != fingerprint:
            stale = f'{work_dir}.stale-{time.strftime("%Y%m%d_%H%M%S")}'
            os.rename(work_dir, stale)
            log(f'{name}: {osp.relpath(work_dir, REPO)} holds another run (config, options or '
                f'data differ); moved to {osp.relpath(stale, REPO)}')
    os.makedirs(work_dir, exist_ok=True)
    with open(stamp, 'w') as f:
        f.write(fingerprint + '\n')


def train_iterations(config: str, options: List[str]) -> int:
    """Training iterations of ``config`` with ``options``: ``max_iters``, or epochs x batches per
    epoch (the training set is built to count them; a robust stream holds its negatives too)."""
    from mmengine.config import Config, DictAction
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(parser.parse_args(['--cfg-options'] + options).cfg_options)
    if cfg.train_cfg.get('max_iters') is not None:  # an iteration-based loop
        return int(cfg.train_cfg.max_iters)
    loader = cfg.train_dataloader
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        batches = math.ceil(len(DATASETS.build(loader.dataset)) / loader.batch_size)
    return cfg.train_cfg.max_epochs * batches


def thread_schedules(iterations: Dict[str, int], workers: int) -> Dict[str, Optional[str]]:
    """``--thread-schedule`` of trainings run side by side on this machine's cores.

    Every training starts on its share of the cores; the longest one takes all of them from the
    iteration at which the others have ended (the trainings step at about the same speed), so
    its last part does not run on one core beside idle ones. Fixed in iterations, a schedule
    repeats exactly on a rerun. None for a training that keeps its share.
    """
    cores = os.cpu_count() or 1
    workers = max(1, min(workers, len(iterations)))
    share = max(1, cores // workers)
    schedules = dict.fromkeys(iterations)
    longest = max(iterations, key=iterations.get)
    others = [n for name, n in iterations.items() if name != longest]
    if workers == len(iterations) and others and share < cores:
        schedules[longest] = f'0:{share},{max(others)}:{cores}'
    return schedules


def train(name: str,
          config: str,
          work_dir: str,
          options: List[str],
          epochs: int,
          thread_schedule: Optional[str] = None,
          threads: Optional[int] = None) -> str:
    prepare_run_dir(name, work_dir, run_fingerprint(config, options))
    ckpt = last_epoch_checkpoint(work_dir, epochs)
    if osp.isfile(ckpt):
        log(f'{name}: {osp.relpath(ckpt, REPO)} exists, training skipped')
        return ckpt
    cmd = [osp.join(REPO, 'tools/train.py'), config, '--work-dir', work_dir]
    if thread_schedule:
        cmd = [osp.join(HERE, 'thread_schedule.py'), '--thread-schedule', thread_schedule] + cmd[1:]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')  # an interrupted run continues from its last checkpoint
    run(cmd + ['--cfg-options'] + options, osp.join(work_dir, 'train_stdout.log'), f'[{name}] ',
        threads)
    return ckpt


def read_if_newer(path: str, ckpt: str) -> Optional[Dict]:
    """The JSON file ``path`` when it exists and is newer than ``ckpt``, else None."""
    if not osp.isfile(path) or osp.getmtime(path) < osp.getmtime(ckpt):
        return None
    with open(path) as f:
        return json.load(f)


def report_is_current(table: str, ckpt: str, gate_thr: Optional[float]) -> bool:
    """Whether a robust test report exists, is newer than ``ckpt`` and was gated at ``gate_thr``
    (a report without a gate, from a model without a similarity head, fits any threshold, and
    any report fits ``gate_thr=None``)."""
    report = read_if_newer(table, ckpt)
    if report is None:
        return False
    recorded = report.get('gate_thr')
    return (recorded is None or gate_thr is None or abs(float(recorded) - float(gate_thr)) < 1e-9)


def evaluate(name: str,
             config: str,
             ckpt: str,
             out_dir: str,
             options: List[str],
             gate_thr: Optional[float],
             threads: Optional[int] = None,
             draw_interval: Optional[int] = None) -> Dict:
    """Robust test run of ``ckpt`` (reused when current), its gated table at ``gate_thr``
    (None: the config's threshold, for a run whose gated table is not used). ``draw_interval``:
    MMSeg's ``SegVisualizationHook`` draws one sample every that many batches (None: its
    default, 50; a drawing costs about 1.5 s on a CPU)."""
    table = osp.join(out_dir, 'robust_metrics.json')
    if not report_is_current(table, ckpt, gate_thr):
        overrides = ([] if gate_thr is None else [f'test_evaluator.gate_thr={gate_thr}']) + options
        if draw_interval:
            overrides.append(f'default_hooks.visualization.interval={draw_interval}')
        run([
            osp.join(REPO, 'tools/test.py'), config, ckpt, '--work-dir', out_dir, '--show-dir',
            'vis', '--cfg-options'
        ] + overrides, osp.join(out_dir, 'test_stdout.log'), f'[{name}] ', threads)
    with open(table) as f:
        return json.load(f)


def calibrate(config: str,
              ckpt: str,
              out_dir: str,
              options: List[str],
              threads: Optional[int] = None) -> Tuple[float, Optional[Dict]]:
    """Gate threshold chosen on the val split from the conditions met in training, and the
    spread of the rule over resampled val videos (``calibrate_gate.py --bootstrap``).

    Only positives, silence and off-screen pairs are used: noise and the unseen recordings stay
    held out for the test, as in the benchmark. Those easy negatives are all rejected by a wide
    band of thresholds, so the strictest one that keeps the val positive mIoU within 0.01 of the
    ungated model is taken (``--strategy strictest``): the positive budget is spent on the
    negatives val cannot show. That threshold is only as steady as the val split is large (hence
    600 val videos in the full run, see ``FULL``).
    """
    summary = osp.join(out_dir, 'gate_calibration.json')
    found = read_if_newer(summary, ckpt)
    if found is None or found['calibration'].get('strategy') != GATE_STRATEGY:
        log('4/5 calibrate the gate on val (positive, silence, off-screen)')
        run([
            osp.join(REPO, 'tools/analysis_tools/calibrate_gate.py'), config, ckpt, '--work-dir',
            out_dir, '--no-progress', '--strategy', GATE_STRATEGY, '--cfg-options'
        ] + options + ['val_dataloader.dataset.conditions=[positive,silence,offscreen]'],
            osp.join(out_dir, 'calibrate_stdout.log'), '[calibration] ', threads)
        with open(summary) as f:
            found = json.load(f)
    thr = float(found['calibration']['gate_thr'])
    log(f'gate threshold: {thr:g} ({osp.relpath(summary, REPO)})')
    return thr, found['calibration'].get('bootstrap')


def save_initial_checkpoint(config: str, path: str, seed: int) -> str:
    """The robust model at its random initialisation (for the 'before training' histogram)."""
    if osp.isfile(path):
        return path
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    set_random_seed(seed)
    logger = MMLogger.get_instance('mmengine')
    level = logger.level
    logger.setLevel('WARNING')  # init_weights() logs every parameter's initialiser
    try:
        with warnings.catch_warnings():  # mmseg's build_loss deprecation notice
            warnings.simplefilter('ignore')
            model = MODELS.build(Config.fromfile(config).model)
            model.init_weights()
    finally:
        logger.setLevel(level)
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

    sizes = {
        f'{s}_{split}': (mode[s][i] if s in args.subsets else 0)
        for s in ('s4', 'ms3')
        for i, split in enumerate(('train', 'val', 'test'))
    }
    log(f'1/5 SynthAVS in {osp.relpath(data_root, REPO)} ({sizes})')
    # A SynthAVS root made with other sizes, seed or generator version is regenerated (only a
    # root with a SynthAVS manifest: anything else, e.g. a real AVSBench copy, is refused).
    overwrite = ['--overwrite'] if osp.isfile(osp.join(data_root, MANIFEST_NAME)) else []
    run([
        osp.join(REPO, 'tools/dataset_converters/make_synth_avs.py'), data_root, '--seed',
        str(args.seed), '--workers', '2'
    ] + overwrite + [f'--{key.replace("_", "-")}={value}' for key, value in sizes.items()],
        osp.join(work_dir, 'logs', 'make_synth_avs.log'))

    log('2/5 log-mel cache and AVSBench-Robust manifests')
    run([osp.join(REPO, 'tools/dataset_converters/cache_log_mel.py'), data_root],
        osp.join(work_dir, 'logs', 'cache_log_mel.log'))
    for subset in args.subsets:
        run([
            osp.join(REPO, 'tools/dataset_converters/make_robust_manifest.py'), data_root,
            '--subset', subset
        ], osp.join(work_dir, 'logs', f'manifest_{subset}.log'))

    from mmengine.config import Config
    results = {}
    for subset in args.subsets:
        runs = {}
        for name in ('baseline', 'robust'):
            config = osp.join(REPO, 'configs', 'tpavi', CONFIGS[subset][name])
            cfg = Config.fromfile(config)
            epochs = args.epochs or mode['epochs'] or cfg.train_cfg.max_epochs
            options = data_root_overrides(cfg, data_root) + schedule_overrides(
                cfg, epochs) + [f'randomness.seed={args.seed}']
            train_options = list(options)
            if args.quick:
                train_options += ['train_cfg.val_interval=1000']
            if mode[subset][1] > mode['val_videos_in_training']:
                train_options += validation_subset(cfg, mode['val_videos_in_training'])
            runs[name] = dict(
                config=config,
                cfg=cfg,
                options=options,
                train_options=train_options,
                epochs=epochs,
                work_dir=osp.join(work_dir, subset, name))
        log(f'3/5 [{subset}] train the baseline and the robust model '
            f'({runs["robust"]["epochs"]} epochs, side by side)')
        schedules = thread_schedules(
            {
                name: train_iterations(r['config'], r['train_options'])
                for name, r in runs.items()
            }, args.jobs)
        for name, schedule in schedules.items():
            if schedule:
                log(f'[{name}] CPU threads by iteration: {schedule} (the other training ends '
                    'at the second entry)')
        ckpts = dict(
            zip(
                runs,
                run_concurrently([
                    partial(train, name, r['config'], r['work_dir'], r['train_options'],
                            r['epochs'], schedules[name]) for name, r in runs.items()
                ], args.jobs)))
        robust = runs['robust']
        init = save_initial_checkpoint(robust['config'],
                                       osp.join(robust['work_dir'], 'init', 'init.pth'), args.seed)
        log(f'4/5 [{subset}] calibrate the gate and evaluate under every audio condition (and '
            'the robust model at initialisation, for the similarity histogram before training)')

        init_options = list(robust['options'])
        if mode['init_test_videos'] and mode[subset][2] > mode['init_test_videos']:
            init_options += first_videos(robust['cfg'], 'test', mode['init_test_videos'])

        draw = mode['draw_interval']

        def gate_then_robust(threads, robust=robust, ckpts=ckpts):
            # the robust model's test run needs the gate; it starts as soon as it is calibrated
            if args.gate_thr is not None:
                gate_thr, spread = args.gate_thr, None
            else:
                gate_thr, spread = calibrate(robust['config'], ckpts['robust'],
                                             osp.join(robust['work_dir'], 'calibration'),
                                             robust['options'], threads)
            report = evaluate('robust', robust['config'], ckpts['robust'],
                              osp.join(robust['work_dir'], 'test'), robust['options'], gate_thr,
                              threads, draw)
            return gate_thr, spread, report

        def baseline_then_init(threads,
                               baseline=runs['baseline'],
                               robust=robust,
                               ckpts=ckpts,
                               init=init,
                               init_options=init_options):
            # neither needs the gate (the baseline has no similarity; of the initial model only
            # the similarity histogram is used): both run while the gate is calibrated and used
            report = evaluate('baseline', baseline['config'], ckpts['baseline'],
                              osp.join(baseline['work_dir'], 'test'), baseline['options'], None,
                              threads, draw)
            evaluate('robust-init', robust['config'], init,
                     osp.join(robust['work_dir'], 'init', 'test'), init_options, None, threads,
                     draw)
            return report

        (gate_thr, spread,
         robust_report), baseline_report = run_concurrently([gate_then_robust, baseline_then_init],
                                                            args.jobs)
        results[subset] = dict(
            baseline=baseline_report, robust=robust_report, gate_thr=gate_thr, gate_spread=spread)

    log('5/5 comparison')
    summary = dict(data_root=data_root, quick=args.quick, subsets={})
    all_ok = True
    for subset, reports in results.items():
        gate_thr = reports['gate_thr']
        rows = comparison_rows(reports['baseline'], reports['robust'])
        checks = check_targets(reports['baseline'], reports['robust'])
        all_ok &= all(c['ok'] for c in checks if c['required'])
        print(f'\nSynthAVS {subset.upper()}: positive-only baseline vs. debiased model '
              f'(gate: similarity >= {gate_thr:g})')
        spread = reports['gate_spread']
        if spread:
            print(f'gate calibrated on {spread["videos"]} val videos; on {spread["resamples"]} '
                  f'resamples of them the rule picks {spread["p5"]:g}-{spread["p95"]:g} (5-95 %), '
                  f'median {spread["median"]:g}')
        print(format_comparison_table(rows))
        print('targets:')
        for c in checks:
            status = 'ok' if c['ok'] else ('MISSED' if c['required'] else 'not met')
            print(f"  [{status}] {c['name']}: {c['value']:.4f} ({c['rule']})")
        summary['subsets'][subset] = dict(
            rows=rows, targets=checks, gate_thr=gate_thr, gate_spread=spread)
        with open(osp.join(work_dir, f'comparison_{subset}.md'), 'w') as f:
            f.write(format_comparison_markdown(rows, checks, subset, gate_thr))
        _plots(work_dir, subset, reports)
    with open(osp.join(work_dir, 'comparison.json'), 'w') as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    log(f'done in {(time.time() - start) / 60:.1f} min; results in '
        f'{osp.relpath(work_dir, REPO)}/ (comparison_*.md, comparison.json, plots/, */vis/)')
    if not all_ok:
        log('some targets were missed (see above)')
        return 1 if args.strict else 0
    return 0


def _plots(work_dir: str, subset: str, reports: Dict) -> None:
    """Per-condition bars of both models, and the figures of the test runs gathered in plots/."""
    import shutil

    from mmavs.visualization import plot_condition_bars
    out = osp.join(work_dir, 'plots')
    for name in ('baseline', 'robust'):
        for key in ('no_gate', 'gated'):
            if key in reports[name]:
                plot_condition_bars(
                    reports[name][key],
                    osp.join(out, f'{subset}_{name}_{key}_bars.png'),
                    title=f'{subset.upper()} {name} ({key.replace("_", " ")})')
    figures = {  # test runs' RobustVisualizationHook (--show-dir vis) and the calibration
        f'{subset}_baseline_overlays.png': 'baseline/test/vis/overlays.png',
        f'{subset}_robust_overlays.png': 'robust/test/vis/overlays.png',
        f'{subset}_similarity_before_training.png': 'robust/init/test/vis/similarity_hist.png',
        f'{subset}_similarity_after_training.png': 'robust/test/vis/similarity_hist.png',
        f'{subset}_gate_calibration.png': 'robust/calibration/gate_calibration.png',
    }
    for name, path in figures.items():
        src = osp.join(work_dir, subset, path)
        if osp.isfile(src):
            shutil.copyfile(src, osp.join(out, name))


if __name__ == '__main__':
    sys.exit(main())
