# Copyright (c) mmavs contributors. All rights reserved.
"""The main job's comparison of two robust reports: its table and the targets of the experiment.

A *report* is what :class:`RobustAVSMetric` writes (``robust_metrics.json``):
``{'gate_thr': p, 'no_gate': {'conditions': {cond: {...}}, 'global': {...}}, 'gated': {...}}``.
"""
import math
from typing import Dict, List, Sequence

from mmavs.evaluation.report import format_grouped_table
from mmavs.utils.formatting import format_number

#: The paper's claim on SynthAVS, as checks: (name, model, variant, metric path, rule, bound).
TARGETS = (
    ('baseline shows visual bias: G-FPR', 'baseline', 'no_gate', ('global', 'G-FPR'), '>=', 0.3),
    ('robust: G-FPR', 'robust', None, ('global', 'G-FPR'), '<=', 0.005),
    ('robust: frame false-alarm on every negative condition (max)', 'robust', None,
     ('max_negative', 'false_alarm'), '<=', 0.02),
    ('robust: FPR on the unseen real recordings', 'robust', None, ('conditions', 'unseen', 'FPR'),
     '<=', 0.01),
    ('robust: positive mIoU minus baseline positive mIoU', 'robust', None,
     ('delta_positive_mIoU', ), '>=', -0.01),
)
METRICS = ('mIoU', 'F', 'FPR', 'false_alarm')


def _variant(report: Dict, variant: str) -> Dict:
    if variant not in report:
        raise KeyError(f'report has no {variant!r} results; found {sorted(report)}')
    return report[variant]


def _value(report: Dict, variant: str, path: Sequence[str], baseline: Dict) -> float:
    part = _variant(report, variant)
    if path[0] == 'max_negative':
        values = [m[path[1]] for c, m in part['conditions'].items() if c != 'positive']
        return max(values) if values else math.nan
    if path[0] == 'delta_positive_mIoU':
        return (part['conditions']['positive']['mIoU'] -
                baseline['no_gate']['conditions']['positive']['mIoU'])
    node = part
    for key in path:
        node = node[key]
    return float(node)


def check_targets(baseline: Dict, robust: Dict,
                  variants: Sequence[str] = ('gated', 'no_gate')) -> List[Dict]:
    """Evaluate :data:`TARGETS`; robust targets are checked once per ``variants`` entry.

    The first variant (default: gated, the recommended inference) is the one that must meet the
    targets (``required``); the others are reported beside it.

    Returns:
        list[dict]: ``name``, ``variant``, ``value``, ``rule`` (e.g. ``'<= 0.005'``), ``ok`` and
        ``required``.
    """
    checks = []
    for name, model, variant, path, op, bound in TARGETS:
        report = baseline if model == 'baseline' else robust
        for var in ([variant] if variant else [v for v in variants if v in robust]):
            value = _value(report, var, path, baseline)
            ok = (value >= bound) if op == '>=' else (value <= bound)
            checks.append(
                dict(
                    name=f'{name} [{var.replace("_", " ")}]',
                    variant=var,
                    value=value,
                    rule=f'{op} {bound}',
                    ok=bool(ok and value == value),
                    required=model == 'baseline' or var == variants[0]))
    return checks


def comparison_rows(baseline: Dict, robust: Dict) -> List[Dict]:
    """One row per (condition, model variant) plus the global rows, for printing and JSON."""
    columns = [('baseline', baseline, 'no_gate'), ('robust', robust, 'no_gate')]
    if 'gated' in robust:
        columns.append(('robust + gate', robust, 'gated'))
    rows = []
    conditions = list(robust['no_gate']['conditions'])
    for condition in conditions:
        for label, report, variant in columns:
            metrics = report[variant]['conditions'].get(condition, {})
            rows.append(
                dict(
                    condition=condition,
                    model=label,
                    **{m: metrics.get(m, math.nan)
                       for m in METRICS}))
    for label, report, variant in columns:
        g = report[variant]['global']
        rows.append(
            dict(
                condition='global',
                model=label,
                mIoU=g.get('G-mIoU', math.nan),
                F=g.get('G-F', math.nan),
                FPR=g.get('G-FPR', math.nan),
                false_alarm=g.get('G-false_alarm', math.nan)))
    return rows


def format_comparison_table(rows: List[Dict]) -> str:
    """A fixed-width text table of :func:`comparison_rows` (global row: G-mIoU, G-F, G-FPR)."""
    header = ['condition', 'model', 'mIoU', 'F', 'FPR', 'false alarm']
    body = [[r['condition'], r['model']] + [format_number(r[m]) for m in METRICS] for r in rows]
    return format_grouped_table(header, body)


def format_comparison_markdown(rows: List[Dict], checks: List[Dict], subset: str,
                               gate_thr: float) -> str:
    """Markdown version of the table and the target checks."""
    lines = [
        f'# SynthAVS {subset.upper()}: positive-only baseline vs. debiased model', '',
        f'Gate: similarity probability >= {gate_thr}. Global row: G-mIoU, G-F, G-FPR and the '
        'mean frame false-alarm over the negative conditions (docs/metrics.md).', '',
        '| condition | model | mIoU | F | FPR | false alarm |', '|---|---|---:|---:|---:|---:|'
    ]
    for r in rows:
        lines.append(f"| {r['condition']} | {r['model']} | " +
                     ' | '.join(format_number(r[m]) for m in METRICS) + ' |')
    lines += ['', '| target | value | rule | met |', '|---|---:|---|---|']
    for c in checks:
        lines.append(f"| {c['name']} | {c['value']:.4f} | {c['rule']} | "
                     f"{'yes' if c['ok'] else 'no'} |")
    return '\n'.join(lines) + '\n'
