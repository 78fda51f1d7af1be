# Copyright (c) mmavs contributors. All rights reserved.
"""Two robust evaluation results side by side.

Examples::

    python tools/analysis_tools/compare_results.py work_dirs/base/robust_metrics.json \
        work_dirs/robust/robust_metrics.json --names baseline robust --out compare.md

Reads two ``robust_metrics.json`` files written by ``RobustAVSMetric`` (``tools/test.py``), and
prints, for the ungated results and, where either file has them, the gated ones: every condition
(in the report order: positive, silence, noise, offscreen, unseen, others) x metric (mIoU, F, FPR,
false alarm, similarity) and the global row (G-mIoU, G-F, G-FPR, G-false_alarm), with the
difference B - A. ``--out`` also writes the tables as Markdown.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import mmavs  # noqa: F401  (environment fixes + registration)
from mmavs.evaluation.report import COLUMNS, GLOBAL_COLUMNS, format_grouped_table, order_conditions
from mmavs.utils.formatting import format_number

#: Condition metrics compared (report keys), in table order.
METRICS = tuple(key for key, _ in COLUMNS if key != 'num_frames')
VARIANTS = (('no_gate', 'no gate'), ('gated', 'gated'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Compare two robust_metrics.json side by side')
    parser.add_argument('a', help='first robust_metrics.json (A)')
    parser.add_argument('b', help='second robust_metrics.json (B)')
    parser.add_argument(
        '--names',
        nargs=2,
        metavar=('A', 'B'),
        help='column names (default: the parent folder names)')
    parser.add_argument('--out', help='write the comparison as Markdown to this file')
    return parser.parse_args(argv)


def load_results(path: str) -> dict:
    """A ``robust_metrics.json`` as ``{'no_gate': report, 'gated': report?, 'gate_thr': p}``.

    A bare report (``{'conditions': ..., 'global': ...}``) is read as the ungated variant.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: Not JSON, or not a robust report; the message names the file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'results file not found: {path}')
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f'expected JSON in {path}, found a parse error: {exc}') from exc
    if isinstance(data, dict) and 'conditions' in data:
        data = {'no_gate': data, 'gate_thr': None}
    if not isinstance(data, dict) or not isinstance(data.get('no_gate'), dict) or \
            'conditions' not in data['no_gate']:
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ValueError(f'expected a robust_metrics.json (keys no_gate/gated/gate_thr, each '
                         f'with conditions and global) in {path}, found {found}')
    return data


def _value(report: Optional[dict], condition: str, metric: str) -> float:
    if report is None:
        return math.nan
    if condition == 'global':
        value = report.get('global', {}).get(GLOBAL_COLUMNS.get(metric, ''))
    else:
        value = report['conditions'].get(condition, {}).get(metric)
    return math.nan if value is None else float(value)


def compare_rows(a: Optional[dict], b: Optional[dict]) -> List[Dict]:
    """Rows ``condition, metric, a, b, delta`` of two reports (either may be None)."""
    names = set()
    for report in (a, b):
        if report is not None:
            names |= set(report['conditions'])
    rows = []
    for condition in order_conditions(names) + ['global']:
        metrics = [m for m in METRICS if m in GLOBAL_COLUMNS] if condition == 'global' \
            else METRICS
        for metric in metrics:
            va, vb = _value(a, condition, metric), _value(b, condition, metric)
            if math.isnan(va) and math.isnan(vb):
                continue
            label = GLOBAL_COLUMNS[metric] if condition == 'global' else metric
            rows.append(dict(condition=condition, metric=label, a=va, b=vb, delta=vb - va))
    return rows


def _cells(row: Dict) -> List[str]:
    return [
        row['condition'], row['metric'],
        format_number(row['a']),
        format_number(row['b']),
        format_number(row['delta'], signed=True)
    ]


def format_text(rows: List[Dict], names, title: str) -> str:
    header = ['condition', 'metric', names[0], names[1], f'{names[1]} - {names[0]}']
    return format_grouped_table(header, [_cells(r) for r in rows], title)


def format_markdown(rows: List[Dict], names, title: str) -> str:
    lines = [
        f'### {title}', '',
        f'| condition | metric | {names[0]} | {names[1]} | {names[1]} - {names[0]} |',
        '|---|---|---:|---:|---:|'
    ]
    lines += ['| ' + ' | '.join(_cells(r)) + ' |' for r in rows]
    return '\n'.join(lines) + '\n'


def _title(key: str, label: str, results: List[dict], names) -> str:
    if key != 'gated':
        return label
    thrs = [
        f'{n}: ' + ('-' if r.get('gate_thr') is None or 'gated' not in r else
                    f'similarity >= {r["gate_thr"]:g}') for n, r in zip(names, results)
    ]
    return f'gated ({", ".join(thrs)})'


def main(argv=None) -> Dict[str, List[Dict]]:
    args = parse_args(argv)
    try:
        results = [load_results(args.a), load_results(args.b)]
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        raise SystemExit(2) from exc
    names = args.names or [osp.basename(osp.dirname(osp.abspath(p))) or p for p in (args.a, args.b)]
    if names[0] == names[1]:
        names = [f'A ({names[0]})', f'B ({names[1]})']
    tables, texts, markdown = {}, [], [
        f'# {names[0]} vs. {names[1]}', '', f'A = `{args.a}`, B = `{args.b}`', ''
    ]
    for key, label in VARIANTS:
        reports = [r.get(key) for r in results]
        if all(r is None for r in reports):
            continue
        rows = compare_rows(*reports)
        tables[key] = rows
        title = _title(key, label, results, names)
        texts.append(format_text(rows, names, title))
        markdown.append(format_markdown(rows, names, title))
    print(f'A = {names[0]}: {args.a}\nB = {names[1]}: {args.b}\n')
    print('\n\n'.join(texts))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write('\n'.join(markdown))
        print(f'\nwrote {args.out}')
    return tables


if __name__ == '__main__':
    main()
