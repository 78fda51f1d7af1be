# Copyright (c) mmavs contributors. All rights reserved.
"""Score any AVS model's prediction PNGs on AVSBench-Robust: the table of ``tools/test.py``.

One folder per audio condition, each ``<split>/<category>/<name>/<name>_<i>.png`` (S4, ``i`` =
1..5; MS3 without ``<category>``): binary 0/255 masks or 8/16-bit probability maps of the
frame's size. Every expected frame must be there (one error lists what is missing). Steps and
formats: ``docs/benchmark.md``.

Examples::

    python tools/analysis_tools/eval_predictions.py data/AVSBench --subset s4 \\
        --pred positive=preds/positive --pred silence=preds/silence \\
        --pred noise=preds/noise --pred offscreen=preds/offscreen --out work_dirs/other_model
    # AVSBench's own save_mask output (no split folder, frames numbered from 0):
    python tools/analysis_tools/eval_predictions.py data/AVSBench --subset s4 \\
        --pred positive=pred_masks --pred silence=pred_masks_silence \\
        --no-split-folder --first-index 0

Writes ``robust_metrics.json`` (the format of ``tools/test.py``, so
``compare_results.py`` reads both) and ``robust_metrics.md`` under ``--out``.
"""
import argparse
import sys
from collections import OrderedDict

import mmavs  # noqa: F401  (environment fixes + registration)
from mmavs.evaluation.prediction_eval import (MissingPredictionsError, evaluate_predictions,
                                              format_result, write_result)
from mmavs.evaluation.prediction_io import PredictionLayout


def parse_pred(values) -> 'OrderedDict[str, str]':
    """``['positive=DIR', ...]`` -> ``{'positive': 'DIR', ...}`` (each condition once)."""
    folders = OrderedDict()
    for value in values:
        condition, sep, folder = value.partition('=')
        if not sep or not condition or not folder:
            raise SystemExit(f'--pred expects CONDITION=DIR, found {value!r}')
        if condition in folders:
            raise SystemExit(f'--pred names the condition {condition!r} twice')
        folders[condition] = folder
    return folders


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='AVSBench root (Single-source/, Multi-sources/)')
    parser.add_argument('--subset', choices=('s4', 'ms3'), default='s4')
    parser.add_argument('--split', choices=('train', 'val', 'test'), default='test')
    parser.add_argument(
        '--pred',
        action='append',
        required=True,
        metavar='CONDITION=DIR',
        help='prediction folder of a condition (positive, silence, noise, offscreen, unseen); '
        'repeat for each')
    parser.add_argument('--out', help='folder for robust_metrics.json and robust_metrics.md')
    parser.add_argument(
        '--threshold',
        type=float,
        default=None,
        help='binarise every PNG first: sounding where value / max > THRESHOLD (0 for 0/1 '
        'masks); default: read probability maps as they are')
    parser.add_argument(
        '--allow-missing',
        action='store_true',
        help='count a missing frame as a failure of the model (complement of the ground truth) '
        'instead of stopping')
    parser.add_argument(
        '--first-index',
        type=int,
        choices=(0, 1),
        default=1,
        help='number of the first frame in the file names (default 1: <name>_1.png .. _5.png)')
    parser.add_argument(
        '--no-split-folder',
        action='store_true',
        help='the folders hold <category>/<name>/... directly, without <split>/')
    parser.add_argument('--batch-size', type=int, default=16, help='frames scored together')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    layout = PredictionLayout(args.subset, not args.no_split_folder, args.first_index)
    try:
        result = evaluate_predictions(
            args.data_root,
            args.subset,
            parse_pred(args.pred),
            split=args.split,
            layout=layout,
            threshold=args.threshold,
            allow_missing=args.allow_missing,
            batch_size=args.batch_size,
            progress=not args.no_progress)
    except MissingPredictionsError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(format_result(result))
    if args.out:
        for path in write_result(result, args.out):
            print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
