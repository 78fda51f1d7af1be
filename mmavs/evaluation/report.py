# Copyright (c) mmavs contributors. All rights reserved.
"""The robustness table: per-condition metrics plus the global row, as data, text and Markdown.

A *report* is a plain dict, the same for the printed table, the JSON file and the plots::

    {'conditions': {'positive': {'num_frames': 740, 'mIoU': 0.81, 'F': 0.88, 'FPR': 0.12,
                                 'false_alarm': 0.97},
                    'silence': {'num_frames': 740, 'FPR': 0.31, 'false_alarm': 0.92}, ...},
     'global': {'G-FPR': 0.29, 'G-false_alarm': 0.90, 'G-mIoU': 0.76, 'G-F': 0.79}}

mIoU and F are reported for the positive condition only (under a negative condition every ground
truth is empty: F is undefined and mIoU is exactly ``1 - FPR``); FPR and false alarm for every
condition (for the positive one they measure how much is segmented, not errors). All values are
fractions in [0, 1]. Formulas: ``docs/metrics.md``.
"""
from typing import Dict, Iterable, List, Optional, Sequence

from prettytable import PrettyTable

from ..utils.constants import CONDITIONS
from ..utils.formatting import format_number
from .functional import global_metrics, reduce_statistics

#: Conditions in the order of the tables; other names follow alphabetically.
CONDITION_ORDER = CONDITIONS
#: Table columns: (report key, header).
COLUMNS = (('num_frames', 'frames'), ('mIoU', 'mIoU'), ('F', 'F'), ('FPR', 'FPR'),
           ('false_alarm', 'false alarm'), ('similarity', 'similarity'))
#: Global metric shown in each column of the global row.
GLOBAL_COLUMNS = {'mIoU': 'G-mIoU', 'F': 'G-F', 'FPR': 'G-FPR', 'false_alarm': 'G-false_alarm'}
POSITIVE_ONLY = ('mIoU', 'F')


def order_conditions(names: Iterable[str], positive_condition: str = 'positive') -> List[str]:
    """Sort condition names: the positive one, the standard negatives, then the rest by name."""
    order = (positive_condition, ) + tuple(c for c in CONDITION_ORDER if c != positive_condition)
    rank = {name: i for i, name in enumerate(order)}
    return sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n))


def build_report(stats_by_condition: Dict[str, dict],
                 positive_condition: str = 'positive',
                 beta2: float = 0.3,
                 similarity: Optional[Dict[str, float]] = None) -> dict:
    """Reduce per-condition frame statistics to a report.

    Args:
        stats_by_condition (dict[str, dict]): Condition -> output of
            :func:`mmavs.evaluation.functional.frame_statistics` (concatenated over the dataset).
        positive_condition (str): Name of the condition whose frames carry the true audio.
        beta2 (float): F-score beta squared. Defaults to 0.3.
        similarity (dict[str, float], optional): Condition -> mean similarity probability.

    Returns:
        dict: ``{'conditions': {name: metrics}, 'global': metrics}``; ``global`` is empty unless a
        negative condition is present, and holds G-mIoU / G-F only with a positive condition.
    """
    conditions = {}
    for name in order_conditions(stats_by_condition, positive_condition):
        metrics = reduce_statistics(stats_by_condition[name], beta2)
        row = {'num_frames': metrics['num_frames']}
        for key in ('mIoU', 'F', 'FPR', 'false_alarm'):
            if key in POSITIVE_ONLY and name != positive_condition:
                continue
            row[key] = metrics[key]
        if similarity and name in similarity:
            row['similarity'] = similarity[name]
        conditions[name] = row
    negatives = {k: v for k, v in conditions.items() if k != positive_condition}
    glob = {}
    if negatives:
        glob = global_metrics(conditions.get(positive_condition, {}), negatives)
    return {'conditions': conditions, 'global': glob}


def flatten_report(report: dict, prefix: str = '') -> Dict[str, float]:
    """Flat ``{'<prefix><condition>/<metric>': value, '<prefix>G-...': value}`` for logging."""
    flat = {}
    for name, row in report['conditions'].items():
        for key, value in row.items():
            if key != 'num_frames':
                flat[f'{prefix}{name}/{key}'] = value
    for key, value in report['global'].items():
        flat[f'{prefix}{key}'] = value
    return flat


def report_from_metrics(metrics: Dict[str, float], prefix: str = '', gated: bool = False) -> dict:
    """Inverse of :func:`flatten_report` (without frame counts), e.g. for a hook's plots.

    Args:
        metrics (dict[str, float]): Flat metrics, e.g. ``RobustAVSMetric``'s output.
        prefix (str): The metric's own key prefix (``'<prefix>/'``), if it has one.
        gated (bool): Read the ``gated/`` keys instead of the ungated ones.

    Returns:
        dict: ``{'conditions': {...}, 'global': {...}}``; keys of other metrics are ignored.
    """
    report = {'conditions': {}, 'global': {}}
    gated_prefix = prefix + 'gated/'
    for key, value in metrics.items():
        if gated != key.startswith(gated_prefix) or not key.startswith(prefix):
            continue
        key = key[len(gated_prefix if gated else prefix):]
        if key in GLOBAL_COLUMNS.values():
            report['global'][key] = float(value)
        elif '/' in key:
            name, metric = key.rsplit('/', 1)
            report['conditions'].setdefault(name, {})[metric] = float(value)
    return report


def _rows(report: dict) -> List[List[str]]:
    rows = []
    for name, row in report['conditions'].items():
        rows.append([name] + [format_number(row.get(key)) for key, _ in COLUMNS])
    if report['global']:
        glob = [
            format_number(report['global'].get(GLOBAL_COLUMNS.get(key, ''))) for key, _ in COLUMNS
        ]
        rows.append(['global'] + glob)
    return rows


def format_table(report: dict, title: str = '') -> str:
    """The report as a text table (condition x metric, then the global row)."""
    table = PrettyTable()
    table.title = title or None
    table.field_names = ['condition'] + [header for _, header in COLUMNS]
    for row in _rows(report):
        table.add_row(row)
    table.align['condition'] = 'l'
    return table.get_string()


def format_markdown(report: dict, title: str = '') -> str:
    """The report as a Markdown table, with an optional ``###`` title."""
    header = ['condition'] + [h for _, h in COLUMNS]
    lines = [f'### {title}', ''] if title else []
    lines.append('| ' + ' | '.join(header) + ' |')
    lines.append('|' + '|'.join(['---'] + ['---:'] * (len(header) - 1)) + '|')
    for row in _rows(report):
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def format_grouped_table(header: Sequence[str],
                         body: Sequence[Sequence[str]],
                         title: str = '') -> str:
    """A fixed-width text table whose rows are grouped (ruled off) by their first cell."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    line = '-+-'.join('-' * w for w in widths)

    def cells(row) -> str:  # padded to the column widths, no trailing blanks
        return ' | '.join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip()

    out = [title] if title else []
    out += [line, cells(header), line]
    previous = None
    for row in body:
        if previous is not None and row[0] != previous:
            out.append(line)
        out.append(cells(row))
        previous = row[0]
    out.append(line)
    return '\n'.join(out)
