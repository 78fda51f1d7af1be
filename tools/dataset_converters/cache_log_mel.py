# Copyright (c) mmavs contributors. All rights reserved.
"""Cache VGGish log-mel examples for every wav of an AVSBench-layout dataset.

Usage::

    python tools/dataset_converters/cache_log_mel.py DATA_ROOT [--subset s4|ms3|all] \
        [--overwrite] [--num-examples 5]

Mapping (AVSBench layout, ``docs/audio.md``)::

    DATA_ROOT/Single-source/s4_data/audio_wav/<split>/<category>/<name>.wav
        -> DATA_ROOT/Single-source/s4_data/audio_log_mel/<split>/<category>/<name>.pkl
    DATA_ROOT/Multi-sources/ms3_data/audio_wav/<split>/<vid>.wav
        -> DATA_ROOT/Multi-sources/ms3_data/audio_log_mel/<split>/<vid>.pkl

Each cache is ``mmavs.audio.waveform_to_examples(load_audio(wav), 16000, num_examples=5)``,
written atomically in AVSBench's format (pickled float32 tensor ``[5, 1, 96, 64]``). A cache at
least as new as its wav is up to date and skipped (unless ``--overwrite``), so an interrupted run
resumes where it stopped. Unreadable wavs are reported at the end (exit status 1); the others are
still cached.
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from mmavs.audio import (VGGISH_SAMPLE_RATE, AudioLoadError, load_audio, save_log_mel_cache,
                         waveform_to_examples)

#: subset -> (top folder, data folder) under DATA_ROOT
SUBSETS: Dict[str, Tuple[str, str]] = {
    's4': ('Single-source', 's4_data'),
    'ms3': ('Multi-sources', 'ms3_data'),
}
WAV_DIR = 'audio_wav'
CACHE_DIR = 'audio_log_mel'


def cache_path_for(wav_path: Path, wav_root: Path, cache_root: Path) -> Path:
    """``<wav_root>/<rel>.wav`` -> ``<cache_root>/<rel>.pkl``."""
    return (cache_root / wav_path.relative_to(wav_root)).with_suffix('.pkl')


def find_jobs(data_root: Path, subsets: Sequence[str]) -> List[Tuple[Path, Path]]:
    """(wav, cache) pairs of every wav under the ``audio_wav`` folders of ``subsets``.

    Raises:
        FileNotFoundError: none of the subsets has an ``audio_wav`` folder (names the paths).
    """
    jobs, missing = [], []
    for subset in subsets:
        top, data = SUBSETS[subset]
        wav_root = data_root / top / data / WAV_DIR
        if not wav_root.is_dir():
            missing.append(wav_root)
            continue
        cache_root = data_root / top / data / CACHE_DIR
        for wav in sorted(wav_root.rglob('*.wav')):
            jobs.append((wav, cache_path_for(wav, wav_root, cache_root)))
    if missing and len(missing) == len(subsets):
        raise FileNotFoundError('expected AVSBench audio folder(s), found none of: ' +
                                ', '.join(str(path) for path in missing))
    return jobs


def is_up_to_date(wav: Path, cache: Path) -> bool:
    """True if ``cache`` exists and is at least as new as ``wav`` (modification times)."""
    return cache.is_file() and cache.stat().st_mtime >= wav.stat().st_mtime


def cache_one(wav: Path, cache: Path, num_examples: int) -> None:
    """Featurise ``wav`` and write its cache atomically."""
    waveform, sample_rate = load_audio(wav, target_sr=VGGISH_SAMPLE_RATE)
    examples = waveform_to_examples(waveform, sample_rate, num_examples=num_examples)
    save_log_mel_cache(cache, examples)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cache VGGish log-mel examples (.pkl) for an AVSBench-layout dataset.')
    parser.add_argument(
        'data_root', type=Path, help='folder holding Single-source/ and/or Multi-sources/')
    parser.add_argument(
        '--subset',
        choices=['s4', 'ms3', 'all'],
        default='all',
        help='which part of AVSBench to cache (default: all that exist)')
    parser.add_argument(
        '--overwrite', action='store_true', help='rewrite caches even when they are up to date')
    parser.add_argument(
        '--num-examples',
        type=int,
        default=5,
        help='examples (seconds) per clip; pad/cut to this (default: 5)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the tool; returns the exit status (0 ok, 1 some wavs failed, 2 no audio folder)."""
    args = parse_args(argv)
    subsets = list(SUBSETS) if args.subset == 'all' else [args.subset]
    try:
        jobs = find_jobs(args.data_root, subsets)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    todo = [(wav, cache) for wav, cache in jobs if args.overwrite or not is_up_to_date(wav, cache)]
    failures = []
    for wav, cache in tqdm(todo, desc='log-mel', unit='clip'):
        try:
            cache_one(wav, cache, args.num_examples)
        except AudioLoadError as err:
            failures.append(str(err))
    written = len(todo) - len(failures)
    print(f'{len(jobs)} wav files: {written} cached, {len(jobs) - len(todo)} up to date, '
          f'{len(failures)} failed')
    for message in failures:
        print(f'failed: {message}', file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
