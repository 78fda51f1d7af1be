# Copyright (c) mmavs contributors. All rights reserved.
"""Check every file of a dataset before a long training: all problems in one list.

Usage::

    python tools/misc/check_dataset.py CONFIG            # the train/val/test data of a config
    python tools/misc/check_dataset.py data/AVSBench     # every split of S4 and MS3 found there
    python tools/misc/check_dataset.py data/SynthAVS --mode fast --workers 4 --json problems.json

Every frame, mask, wav and cached log-mel ``.pkl`` of every split is decoded (``--mode full``,
the default; ``fast`` reads headers and sizes only, as the Runner does before training), in
parallel threads with a progress bar. CSV rows with an unknown split or category and missing
files are reported with their CSV line. With a config, the unseen recordings of its robust test
set are decoded too. Prints one line per problem (file, problem, expected vs found, CSV line)
and exits 1 when there is any. Checks are described in ``mmavs/datasets/data_check.py``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Tuple

from mmengine.config import Config

import mmavs  # noqa: F401  (environment fixes + registration)
from mmavs.audio import AudioLoadError, load_audio
from mmavs.datasets import AVSBenchMS3Dataset, AVSBenchS4Dataset
from mmavs.datasets.data_check import DataProblem, check_videos, format_problems
from mmavs.datasets.layout import MS3_CSV, S4_CSV, SPLITS
from mmavs.datasets.robust.waveforms import list_unseen_recordings, resolve_unseen_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Check the files of an AVS dataset')
    parser.add_argument('source', help='a config file, or a data root (AVSBench layout)')
    parser.add_argument('--mode', choices=['fast', 'full'], default='full', help='check depth')
    parser.add_argument('--workers', type=int, default=None, help='threads (default: CPUs)')
    parser.add_argument('--json', help='also write the problems to this JSON file')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def _scan(dataset, name: str) -> Tuple[List[dict], List[DataProblem]]:
    """``(videos, problems)``: bad CSV rows and missing files become problems."""
    try:
        missing = dataset.scan_videos(allow_empty=True)
    except (ValueError, FileNotFoundError) as err:
        return [], [DataProblem(dataset.ann_file, str(err), where=name)]
    problems = [DataProblem(path, 'file missing', where=where) for where, path in missing]
    return dataset.video_infos, problems


def datasets_of_root(root: str) -> List[Tuple[str, object]]:
    """``(name, dataset)`` of every split of the S4 and MS3 CSVs found under ``root``."""
    found = []
    for cls, csv in ((AVSBenchS4Dataset, S4_CSV), (AVSBenchMS3Dataset, MS3_CSV)):
        if not osp.isfile(osp.join(root, csv)):
            continue
        for split in SPLITS:
            dataset = cls(data_root=root, split=split, lazy_init=True, test_mode=split != 'train')
            found.append((f'{cls.NAME} {split}', dataset))
    if not found:
        raise SystemExit(f'error: neither {S4_CSV} nor {MS3_CSV} under {root}')
    return found


def datasets_of_config(path: str) -> Tuple[List[Tuple[str, object]], List[str]]:
    """``(name, dataset)`` of the train/val/test data of a config, and its unseen folders."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from mmavs.apis.inference import _inner_dataset_cfg
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    found, unseen, seen = [], [], set()
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if not loader or not loader.get('dataset'):
            continue
        outer = loader['dataset']
        inner = dict(_inner_dataset_cfg(outer))
        inner.update(lazy_init=True, pipeline=[])
        ident = (inner.get('type'), inner.get('data_root'), inner.get('split'))
        if ident not in seen:
            seen.add(ident)
            found.append((f'{key} ({inner.get("split")})', DATASETS.build(inner)))
        if 'unseen' in tuple(outer.get('conditions', ())):
            unseen.append(resolve_unseen_dir(outer.get('unseen_dir')))
    return found, sorted(set(unseen))


def check_unseen(directory: str) -> List[DataProblem]:
    """Every recording of an unseen-audio folder decodes (its length is free)."""
    try:
        names = list_unseen_recordings(directory)
    except FileNotFoundError as err:
        return [DataProblem(directory, str(err))]
    problems = []
    for name in names:
        try:
            load_audio(osp.join(directory, name), target_sr=None)
        except AudioLoadError as err:
            problems.append(DataProblem(osp.join(directory, name), f'cannot be used: {err}'))
    return problems


def main(argv=None) -> List[DataProblem]:
    args = parse_args(argv)
    if osp.isfile(args.source):
        datasets, unseen = datasets_of_config(args.source)
    elif osp.isdir(args.source):
        datasets, unseen = datasets_of_root(args.source), []
    else:
        raise SystemExit(f'error: {args.source} is neither a config file nor a folder')
    problems = []
    for name, dataset in datasets:
        videos, found = _scan(dataset, name)
        problems += found
        problems += check_videos(
            videos, args.mode, args.workers, progress=not args.no_progress, what=name)
    for directory in unseen:
        problems += check_unseen(directory)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump([p.__dict__ for p in problems], f, indent=2)
    if problems:
        print(format_problems(problems, args.source), file=sys.stderr)
        raise SystemExit(1)
    print(f'{args.source}: no problem found ({args.mode} check of {len(datasets)} split(s))')
    return problems


if __name__ == '__main__':
    main()
