# Copyright (c) mmavs contributors. All rights reserved.
"""The AVSBench-Robust manifest: every video's negative audios, fixed once, versioned.

The manifest is what makes two users' robust test sets identical: for every video of every split
it names the off-screen donor video, the noise colour, seed and level, and the unseen recording.
It is plain JSON with sorted keys and no timestamps, so the same data and arguments give a
byte-identical file (:func:`manifest_to_json`). Format (``docs/robust.md``)::

    {
      "format": "mmavs-avsbench-robust-manifest", "version": 1,
      "subset": "s4", "seed": 42,
      "arguments": {"noise_types": [...], "noise_dbfs": -20.0, "sample_rate": 16000,
                    "clip_seconds": 5},
      "donor_rules": {"music": ["animal", "device"], ...},
      "fingerprint": {"num_videos": {"train": N, ...}, "videos_sha256": "<hex>"},
      "unseen_files": ["airplane.wav", ...],
      "videos": {"<split>": {"<video_id>": {
          "category": "...",
          "offscreen": {"video_id": "...", "category": "...", "audio_path": "<rel. to data root>",
                        "rule": "group" | "other_class" | "other_video"},
          "noise": {"type": "pink", "seed": 123, "dbfs": -20.0},
          "unseen": {"file": "cow-sound.wav"} | null}}}
    }

Noise colours and unseen recordings are dealt out in a balanced way within each split (each
colour / file used ``N / k`` times, up to one), in an order fixed by the seed.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

from ...utils.constants import CLIP_SECONDS, SAMPLE_RATE
from ..categories import CATEGORY_GROUPS, COARSE_GROUPS
from .donors import DonorPool, allowed_donor_groups
from .seeding import derive_seed, stable_hash
from .waveforms import DEFAULT_NOISE_DBFS, NOISE_TYPES

MANIFEST_FORMAT = 'mmavs-avsbench-robust-manifest'
MANIFEST_VERSION = 1
#: Folder of each subset under the data root (where the manifest is written by default).
SUBSET_DIRS = {'s4': 'Single-source', 'ms3': 'Multi-sources'}
#: The mmavs dataset that lists each subset's videos (registered in ``DATASETS``).
SUBSET_DATASETS = {'s4': 'AVSBenchS4Dataset', 'ms3': 'AVSBenchMS3Dataset'}
#: The command that (re)generates a manifest; ``{root}``, ``{subset}``, ``{seed}`` filled in.
MANIFEST_COMMAND = ('python tools/dataset_converters/make_robust_manifest.py {root} '
                    '--subset {subset} --seed {seed}')


class ManifestError(ValueError):
    """A robust manifest is missing, malformed, or does not cover the dataset (names the file)."""


def default_manifest_path(data_root: str, subset: str, seed: int = 42) -> str:
    """``<data_root>/<Single-source|Multi-sources>/robust_manifest_<subset>_seed<seed>.json``."""
    if subset not in SUBSET_DIRS:
        raise ValueError(f"unknown subset: expected one of {tuple(SUBSET_DIRS)}, found '{subset}'")
    return osp.join(data_root, SUBSET_DIRS[subset], f'robust_manifest_{subset}_seed{seed}.json')


def manifest_command(data_root: str, subset: str, seed: int = 42) -> str:
    """The shell command that writes the default manifest of ``data_root``."""
    return MANIFEST_COMMAND.format(root=data_root, subset=subset, seed=seed)


def _relative_audio_path(path: str, data_root: Optional[str]) -> str:
    if data_root is not None:
        rel = osp.relpath(osp.abspath(path), osp.abspath(data_root))
        if not rel.startswith('..'):
            path = rel
    return path.replace(os.sep, '/')


def videos_fingerprint(video_infos_by_split: Mapping[str, Sequence[dict]]) -> Dict:
    """Counts per split and the SHA-256 of the sorted ``split/video_id/category`` lines."""
    lines = sorted(f'{split}/{info["video_id"]}/{info.get("category")}'
                   for split, infos in video_infos_by_split.items() for info in infos)
    digest = hashlib.sha256('\n'.join(lines).encode('utf-8')).hexdigest()
    return dict(
        num_videos={
            split: len(infos)
            for split, infos in video_infos_by_split.items()
        },
        videos_sha256=digest)


def _deal(items: Sequence[str], video_ids: Sequence[str], *key) -> Dict[str, str]:
    """Give each video one of ``items``, balanced, in a seeded order."""
    order = sorted(video_ids, key=lambda vid: (stable_hash(*key, vid), vid))
    return {vid: items[rank % len(items)] for rank, vid in enumerate(order)}


def build_split_records(video_infos: Sequence[dict],
                        split: str,
                        seed: int,
                        category_groups: Mapping[str, str] = CATEGORY_GROUPS,
                        noise_types: Sequence[str] = NOISE_TYPES,
                        noise_dbfs: float = DEFAULT_NOISE_DBFS,
                        unseen_files: Sequence[str] = (),
                        data_root: Optional[str] = None) -> Dict[str, dict]:
    """Negative-audio records of one split (see the module docstring for the record format).

    Args:
        video_infos (Sequence[dict]): One dict per video with ``video_id``, ``category`` and
            ``audio_path`` (the wav).
        split (str): The split name (part of every random key).
        seed (int): Manifest seed.
        category_groups (Mapping[str, str]): Category -> coarse group.
        noise_types (Sequence[str]): Noise colours dealt out to the videos.
        noise_dbfs (float): Noise RMS level in dB FS.
        unseen_files (Sequence[str]): Unseen recording file names; empty -> ``unseen: null``.
        data_root (str | None): Donor audio paths are written relative to it.

    Returns:
        dict[str, dict]: video id -> record. Independent of the order of ``video_infos``.
    """
    video_infos = sorted(video_infos, key=lambda info: info['video_id'])
    video_ids = [info['video_id'] for info in video_infos]
    pool = DonorPool(video_ids, [info.get('category') for info in video_infos], category_groups)
    noise_of = _deal(list(noise_types), video_ids, seed, 'noise-type', split)
    unseen_of = _deal(list(unseen_files), video_ids, seed, 'unseen', split) if unseen_files \
        else {}
    records = {}
    for i, info in enumerate(video_infos):
        vid = info['video_id']
        donor_index, rule = pool.draw(i, seed, split, vid)
        donor = video_infos[donor_index]
        records[vid] = dict(
            category=info.get('category'),
            offscreen=dict(
                video_id=donor['video_id'],
                category=donor.get('category'),
                audio_path=_relative_audio_path(donor['audio_path'], data_root),
                rule=rule),
            noise=dict(
                type=noise_of[vid],
                seed=derive_seed(seed, 'noise', split, vid),
                dbfs=float(noise_dbfs)),
            unseen=dict(file=unseen_of[vid]) if unseen_files else None)
    return records


def build_manifest(video_infos_by_split: Mapping[str, Sequence[dict]],
                   seed: int = 42,
                   subset: str = 's4',
                   category_groups: Mapping[str, str] = CATEGORY_GROUPS,
                   noise_types: Sequence[str] = NOISE_TYPES,
                   noise_dbfs: float = DEFAULT_NOISE_DBFS,
                   unseen_files: Sequence[str] = (),
                   data_root: Optional[str] = None) -> dict:
    """Build the AVSBench-Robust manifest of a dataset (pure: no file access).

    Args:
        video_infos_by_split (Mapping[str, Sequence[dict]]): split -> one dict per video with
            ``video_id``, ``category`` (``'multi'``/None for MS3) and ``audio_path``.
        seed (int): Manifest seed (the authors use 42).
        subset (str): ``'s4'`` or ``'ms3'`` (recorded in the header).
        category_groups, noise_types, noise_dbfs, unseen_files, data_root: see
            :func:`build_split_records`.

    Returns:
        dict: The manifest (format in the module docstring); the same inputs always give an
        equal dict, and :func:`manifest_to_json` turns it into the same bytes.
    """
    unknown = [t for t in noise_types if t not in NOISE_TYPES]
    if unknown or not noise_types:
        raise ValueError(f'noise types must be a non-empty subset of {NOISE_TYPES}, '
                         f'found {list(noise_types)}')
    unseen_files = sorted(unseen_files)
    videos = {
        split:
        build_split_records(infos, split, seed, category_groups, noise_types, noise_dbfs,
                            unseen_files, data_root)
        for split, infos in video_infos_by_split.items() if len(infos)
    }
    return dict(
        format=MANIFEST_FORMAT,
        version=MANIFEST_VERSION,
        subset=subset,
        seed=int(seed),
        arguments=dict(
            noise_types=list(noise_types),
            noise_dbfs=float(noise_dbfs),
            sample_rate=SAMPLE_RATE,
            clip_seconds=CLIP_SECONDS),
        donor_rules={group: list(allowed_donor_groups(group))
                     for group in COARSE_GROUPS},
        fingerprint=videos_fingerprint(video_infos_by_split),
        unseen_files=list(unseen_files),
        videos=videos)


def manifest_to_json(manifest: dict) -> str:
    """Canonical JSON text: sorted keys, one-space indent, ASCII, trailing newline."""
    return json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=True) + '\n'


def write_manifest(manifest: dict, path: str) -> str:
    """Write :func:`manifest_to_json` to ``path`` atomically (temp file + rename); return it.

    Several processes (DDP ranks) may write the same manifest at once: each writes the same
    bytes and the rename is atomic, so readers never see a partial file.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp_path = f'{path}.tmp{os.getpid()}'
    with open(tmp_path, 'w', encoding='ascii', newline='\n') as file:
        file.write(manifest_to_json(manifest))
    os.replace(tmp_path, path)
    return path


def load_manifest(path: str, hint: str = '') -> dict:
    """Read and check a manifest.

    Args:
        path (str): The JSON file.
        hint (str): Appended to error messages (e.g. the command that generates it).

    Raises:
        ManifestError: the file is missing, is not JSON, or has another format / version.
    """
    if not osp.isfile(path):
        raise ManifestError(f'robust manifest not found: {path}. {hint}'.strip())
    try:
        with open(path, encoding='utf-8') as file:
            manifest = json.load(file)
    except json.JSONDecodeError as err:
        raise ManifestError(f'robust manifest is not valid JSON ({err}): {path}. {hint}'.strip())
    found = (manifest.get('format'), manifest.get('version')) if isinstance(manifest, dict) \
        else (type(manifest).__name__, None)
    if found != (MANIFEST_FORMAT, MANIFEST_VERSION):
        raise ManifestError(
            f'expected a {MANIFEST_FORMAT} version {MANIFEST_VERSION} manifest, '
            f'found format {found[0]!r} version {found[1]!r} in {path}. {hint}'.strip())
    return manifest


def missing_records(manifest: dict, videos_by_split: Mapping[str, Sequence[str]]) -> List[str]:
    """``split/video_id`` of every listed video that has no record in the manifest."""
    videos = manifest.get('videos', {})
    return [
        f'{split}/{vid}' for split, vids in videos_by_split.items() for vid in vids
        if vid not in videos.get(split, {})
    ]
