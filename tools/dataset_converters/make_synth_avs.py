# Copyright (c) mmavs contributors. All rights reserved.
"""Generate SynthAVS, a synthetic audio-visual segmentation benchmark in the AVSBench layout.

Example::

    python tools/dataset_converters/make_synth_avs.py data/SynthAVS --seed 0

writes ``data/SynthAVS/Single-source`` (S4-like), ``data/SynthAVS/Multi-sources`` (MS3-like) and
``data/SynthAVS/synth_avs_manifest.json``. Rerunning with the same arguments resumes (complete
videos are skipped); other arguments on an existing root are refused unless ``--overwrite``.
The output does not depend on ``--workers``. Design: ``docs/data.md``.
"""
import argparse
import os
import time

from mmavs.synth import SynthAVSConfig, generate_synth_avs


def parse_args(argv=None):
    defaults = SynthAVSConfig()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_root', help='output folder (receives Single-source/, Multi-sources/)')
    parser.add_argument('--seed', type=int, default=defaults.seed, help='master seed')
    for subset in ('s4', 'ms3'):
        for split in ('train', 'val', 'test'):
            key = f'{subset}_{split}'
            parser.add_argument(
                f'--{subset}-{split}',
                dest=key,
                type=int,
                default=getattr(defaults, key),
                help=f'number of {subset.upper()} {split} videos '
                f'(default {getattr(defaults, key)})')
    parser.add_argument(
        '--size',
        type=int,
        default=defaults.size,
        help=f'frame side in px (default {defaults.size})')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a root this generator wrote with other arguments (only its own files: a '
        'tree holding any other file, or without its manifest, is refused)')
    parser.add_argument(
        '--workers',
        type=int,
        default=min(4,
                    os.cpu_count() or 1),
        help='worker processes (does not change the output)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = SynthAVSConfig(
        seed=args.seed,
        s4_train=args.s4_train,
        s4_val=args.s4_val,
        s4_test=args.s4_test,
        ms3_train=args.ms3_train,
        ms3_val=args.ms3_val,
        ms3_test=args.ms3_test,
        size=args.size)
    start = time.time()
    try:
        summary = generate_synth_avs(
            args.out_root,
            cfg,
            overwrite=args.overwrite,
            workers=args.workers,
            progress=not args.no_progress)
    except FileExistsError as err:
        raise SystemExit(f'error: {err}') from None
    print(f'SynthAVS in {args.out_root}: {summary["videos"]} videos '
          f'({summary["written"]} written, {summary["skipped"]} already complete) '
          f'in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
