# Copyright (c) mmavs contributors. All rights reserved.
"""Write the AVSBench-Robust manifest of a dataset root (AVSBench or SynthAVS).

For every video of every split it fixes the negative audios of the robust test sets: the
off-screen donor video (by the coarse-group rules), the noise colour / seed / level and the unseen
recording. Same data + same arguments -> byte-identical JSON. Format: ``docs/robust.md``.

Examples::

    python tools/dataset_converters/make_robust_manifest.py data/AVSBench --subset s4
    python tools/dataset_converters/make_robust_manifest.py data/AVSBench --subset ms3 --seed 42
    python tools/dataset_converters/make_robust_manifest.py data/SynthAVS --subset s4 --check

Default output:
``DATA_ROOT/<Single-source|Multi-sources>/robust_manifest_<subset>_seed<seed>.json``.
"""
import argparse
import os.path as osp
import sys
from collections import Counter

import mmavs  # noqa: F401  (registers the datasets)
from mmavs.datasets.robust.base import collect_video_infos
from mmavs.datasets.robust.manifest import (build_manifest, default_manifest_path, manifest_to_json,
                                            write_manifest)
from mmavs.datasets.robust.waveforms import (DEFAULT_NOISE_DBFS, NOISE_TYPES,
                                             list_unseen_recordings, resolve_unseen_dir)

DATASET_TYPES = {'s4': 'AVSBenchS4Dataset', 'ms3': 'AVSBenchMS3Dataset'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='folder holding Single-source/ and Multi-sources/')
    parser.add_argument('--subset', choices=tuple(DATASET_TYPES), default='s4')
    parser.add_argument('--seed', type=int, default=42, help='manifest seed (authors: 42)')
    parser.add_argument('--out', default=None, help='output JSON (default: see above)')
    parser.add_argument(
        '--unseen-dir',
        default=None,
        help='folder of unseen recordings (default: the 15 recordings shipped '
        'with mmavs, mmavs/resources/unseen_audio)')
    parser.add_argument(
        '--no-unseen', action='store_true', help='write no unseen recordings (unseen: null)')
    parser.add_argument(
        '--noise-types',
        default=','.join(NOISE_TYPES),
        help='comma-separated noise colours dealt out to the videos '
        f'(default {",".join(NOISE_TYPES)})')
    parser.add_argument(
        '--noise-dbfs',
        type=float,
        default=DEFAULT_NOISE_DBFS,
        help=f'noise RMS level in dB FS (default {DEFAULT_NOISE_DBFS})')
    parser.add_argument(
        '--check',
        action='store_true',
        help='do not write: exit 1 unless the existing output is byte-identical')
    return parser.parse_args(argv)


def unseen_files(args) -> list:
    """Unseen recording names ([] with ``--no-unseen``)."""
    if args.no_unseen:
        return []
    return list_unseen_recordings(resolve_unseen_dir(args.unseen_dir))


def main(argv=None) -> int:
    args = parse_args(argv)
    noise_types = [t.strip() for t in args.noise_types.split(',') if t.strip()]
    dataset_cfg = dict(type=DATASET_TYPES[args.subset], data_root=args.data_root)
    infos = collect_video_infos(dataset_cfg)
    manifest = build_manifest(
        infos,
        seed=args.seed,
        subset=args.subset,
        noise_types=noise_types,
        noise_dbfs=args.noise_dbfs,
        unseen_files=unseen_files(args),
        data_root=args.data_root)
    out = args.out or default_manifest_path(args.data_root, args.subset, args.seed)
    if args.check:
        existing = open(out, encoding='utf-8').read() if osp.isfile(out) else None
        same = existing == manifest_to_json(manifest)
        print(f'{out}: {"identical" if same else "DIFFERS from the regenerated manifest"}')
        return 0 if same else 1
    write_manifest(manifest, out)
    rules = Counter(rec['offscreen']['rule'] for split in manifest['videos'].values()
                    for rec in split.values())
    counts = ', '.join(f'{split} {len(recs)}' for split, recs in manifest['videos'].items())
    print(f'wrote {out}: {counts} videos; off-screen donors by rule {dict(sorted(rules.items()))}; '
          f'{len(manifest["unseen_files"])} unseen recordings')
    return 0


if __name__ == '__main__':
    sys.exit(main())
