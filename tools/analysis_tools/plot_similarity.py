# Copyright (c) mmavs contributors. All rights reserved.
"""Similarity of positive vs. negative audio-visual pairs (the paper's Fig. 4).

Examples::

    python tools/analysis_tools/plot_similarity.py CONFIG CHECKPOINT --out sim_test.png
    python tools/analysis_tools/plot_similarity.py CONFIG CHECKPOINT --split val

Runs the model over the robust ``--split`` set (every audio condition of the config's
``<split>_dataloader``), draws the histogram of similarity probabilities of the positive pairs and
of each negative condition (``mmavs.visualization.plot_similarity_histogram``; the model's gating
threshold, if any, as a line), and prints per condition the number of frames, the mean and
standard deviation of the score, and the ROC AUC of positive vs. that condition (the probability
that a positive pair scores higher; 1 = perfectly separated, 0.5 = chance), and the AUC against
all negatives together.
"""
import argparse
import json
import math
import os.path as osp

import torch

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.apis import init_model
from mmavs.evaluation import build_dataloader, collect_condition_results, roc_auc
from mmavs.utils.checkpoint import add_unsafe_load_argument, apply_unsafe_load_argument
from mmavs.utils.formatting import json_safe
from mmavs.visualization import plot_similarity_histogram


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Similarity distributions of positive vs. negative pairs (Fig. 4)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--split',
        default='test',
        choices=['test', 'val'],
        help='dataloader of the config (default test)')
    parser.add_argument(
        '--out',
        default=None,
        help='PNG path (default: similarity_<split>.png beside the checkpoint)')
    parser.add_argument('--bins', type=int, default=40, help='histogram bins over [0, 1]')
    parser.add_argument(
        '--batch-size', type=int, default=None, help='batch size (default: the config\'s)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, ...')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    add_unsafe_load_argument(parser)
    return parser.parse_args(argv)


def similarity_summary(scores: dict, positive: str = 'positive') -> dict:
    """Per condition: frames, mean, std, AUC of positive vs. it; plus all negatives together."""
    if positive not in scores:
        raise ValueError(f'expected {positive!r} pairs among the conditions {sorted(scores)}')
    pos = scores[positive]
    rows = {}
    for name, s in scores.items():
        s = s[~torch.isnan(s)]
        rows[name] = dict(
            frames=int(s.numel()),
            mean=float(s.mean()) if s.numel() else math.nan,
            std=float(s.std(unbiased=False)) if s.numel() else math.nan,
            auc=math.nan if name == positive else roc_auc(pos.numpy(), s.numpy()))
    negatives = [s for name, s in scores.items() if name != positive]
    all_neg = torch.cat(negatives) if negatives else torch.zeros(0, dtype=torch.float64)
    return dict(conditions=rows, auc_all_negatives=roc_auc(pos.numpy(), all_neg.numpy()))


def format_summary(summary: dict) -> str:
    lines = [f'{"condition":<12} {"frames":>7} {"mean":>8} {"std":>8} {"AUC pos vs it":>13}']
    for name, r in summary['conditions'].items():
        auc = '-' if r['auc'] != r['auc'] else f'{r["auc"]:.4f}'
        lines.append(f'{name:<12} {r["frames"]:>7d} {r["mean"]:>8.4f} {r["std"]:>8.4f} '
                     f'{auc:>13}')
    lines.append(f'AUC positive vs. all negatives: {summary["auc_all_negatives"]:.4f}')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    model = init_model(args.config, args.checkpoint, args.device)
    if getattr(model, 'similarity_head', None) is None:
        raise SystemExit(f'error: the model of {args.config} has no similarity head: there is '
                         'no similarity to plot')
    loader = build_dataloader(model.cfg, args.split, args.batch_size)
    data = collect_condition_results(model, loader, with_stats=False, progress=not args.no_progress)
    summary = similarity_summary(data.scores)
    out = args.out or osp.join(
        osp.dirname(osp.abspath(args.checkpoint)), f'similarity_{args.split}.png')
    negatives = {c: data.scores[c].numpy() for c in data.conditions if c != 'positive'}
    plot_similarity_histogram(
        data.scores['positive'].numpy(),
        negatives,
        out,
        title=f'Similarity on {args.split}: positive vs. negative pairs '
        f'(AUC {summary["auc_all_negatives"]:.3f})',
        bins=args.bins,
        threshold=model.gate_thr)
    print(format_summary(summary))
    with open(osp.splitext(out)[0] + '.json', 'w') as f:
        json.dump(json_safe(summary), f, indent=2)
    print(f'wrote {out}')
    return summary


if __name__ == '__main__':
    main()
