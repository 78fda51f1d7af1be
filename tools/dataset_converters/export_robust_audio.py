# Copyright (c) mmavs contributors. All rights reserved.
"""Export the AVSBench-Robust negative audio in the AVSBench audio layout, for any codebase.

For every video of the robust manifest and every negative condition (silence, noise, off-screen,
unseen): a 16 kHz mono 16-bit wav and the AVSBench log-mel cache (``.pkl``, ``[5, 1, 96, 64]``,
the featurisation of every positive), as
``OUT/<condition>/s4_data/audio_wav/<split>/<category>/<name>.wav`` and
``OUT/<condition>/s4_data/audio_log_mel/<split>/<category>/<name>.pkl`` (MS3:
``ms3_data/audio_*/<split>/<name>.*``), plus ``OUT/robust_meta.json``. Same manifest ->
identical bytes; an interrupted export resumes. Steps: ``docs/benchmark.md``.

Examples::

    python tools/dataset_converters/export_robust_audio.py data/AVSBench --subset s4
    python tools/dataset_converters/export_robust_audio.py data/AVSBench --subset ms3 \\
        --splits test --out data/AVSBench-Robust/ms3

Default ``OUT``: ``DATA_ROOT/<Single-source|Multi-sources>/robust_audio_seed<seed>``.
"""
import argparse
import sys

import mmavs  # noqa: F401  (registers the datasets and transforms)
from mmavs.datasets.layout import SPLITS
from mmavs.datasets.robust.export import export_robust_audio
from mmavs.utils.constants import NEGATIVE_CONDITIONS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='folder holding Single-source/ and Multi-sources/')
    parser.add_argument('--subset', choices=('s4', 'ms3'), default='s4')
    parser.add_argument(
        '--manifest',
        help='robust manifest (default: the one make_robust_manifest.py writes for --seed)')
    parser.add_argument('--seed', type=int, default=42, help='seed of the default manifest')
    parser.add_argument('--out', help='output folder (default: see above)')
    parser.add_argument(
        '--conditions',
        nargs='+',
        choices=NEGATIVE_CONDITIONS,
        default=list(NEGATIVE_CONDITIONS),
        help='negative conditions to export (default: all)')
    parser.add_argument(
        '--splits', nargs='+', choices=SPLITS, help='splits to export (default: all)')
    parser.add_argument(
        '--unseen-dir', help='unseen recordings (default: the 15 shipped with mmavs)')
    parser.add_argument(
        '--overwrite', action='store_true', help='rewrite every file, also over another export')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    summary = export_robust_audio(
        args.data_root,
        args.subset,
        manifest_path=args.manifest,
        out_dir=args.out,
        conditions=args.conditions,
        splits=args.splits,
        unseen_dir=args.unseen_dir,
        seed=args.seed,
        overwrite=args.overwrite,
        progress=not args.no_progress)
    print(f'exported to {summary["out_dir"]}: {summary["written"]} clips written, '
          f'{summary["skipped"]} already complete; what each file is: {summary["meta"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
