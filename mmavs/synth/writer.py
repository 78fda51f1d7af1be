# Copyright (c) mmavs contributors. All rights reserved.
"""Write a SynthAVS benchmark to disk in the exact AVSBench layout.

Guarantees:

* **Deterministic.** Every video draws from its own generator seeded by
  ``(seed, subset, split, index)``, and the category plan of a split from ``(seed, subset, split)``,
  so the same arguments give byte-identical files whatever the order, the number of worker
  processes, or how often generation was interrupted.
* **Atomic.** Every file is written to a temporary name in its folder and moved in place with
  :func:`os.replace`; a killed run leaves only complete files.
* **Resumable, never silently different.** ``synth_avs_manifest.json`` at the root records the
  generator version and arguments. Rerunning with the same arguments skips the videos whose files
  all exist; a root generated with other arguments (or an AVSBench-like tree that this generator
  did not write) is refused unless ``overwrite=True``.
* **Deletes only what it wrote.** The manifest is the generator's marker: ``overwrite=True``
  replaces only a root that holds it, and only when every file under ``Single-source/`` and
  ``Multi-sources/`` is one that generator run writes (frames, masks, wavs, CSVs) or that the mmavs
  tools derive from them (log-mel caches of its videos, robust manifests). Those files are
  deleted one by one (then the folders left empty); any other file refuses the overwrite, listed
  by name. A tree without the marker (a real AVSBench copy) is never deleted.

Log-mel caches (``audio_log_mel/*.pkl``) are not written here: the cache tool makes them from the
wavs with the one featurisation of :mod:`mmavs.audio`.
"""
import csv
import io
import json
import os
import os.path as osp
import re
import zlib
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from typing import Dict, List, Optional

import cv2
import numpy as np
import soundfile as sf

from mmavs.datasets.layout import MS3_DIR, S4_DIR, SPLITS, MS3Layout, S4Layout
from mmavs.utils.constants import FRAMES_PER_CLIP, SAMPLE_RATE
from .catalog import CATEGORIES
from .scene import render_clip, sample_ms3_objects, sample_s4_objects

#: Version of the generator's output; bump whenever the same arguments would give other files.
SYNTH_VERSION = '1.4.0'
MANIFEST_NAME = 'synth_avs_manifest.json'
SUBSETS = ('s4', 'ms3')


@dataclass(frozen=True)
class SynthAVSConfig:
    """Arguments of a SynthAVS benchmark (the manifest stores exactly these).

    Args:
        seed (int): Master seed.
        s4_train, s4_val, s4_test (int): Number of S4-like videos per split.
        ms3_train, ms3_val, ms3_test (int): Number of MS3-like videos per split.
        size (int): Frame side in px (frames and masks are ``size x size``).
    """
    seed: int = 0
    s4_train: int = 240
    s4_val: int = 60
    s4_test: int = 60
    ms3_train: int = 120
    ms3_val: int = 30
    ms3_test: int = 30
    size: int = 224

    def __post_init__(self):
        for key, value in asdict(self).items():
            if key != 'seed' and (not isinstance(value, int) or value < 0):
                raise ValueError(f'{key} must be a non-negative int, found {value!r}')
        if self.size < 32:
            raise ValueError(f'size must be at least 32 px, found {self.size}')

    def count(self, subset: str, split: str) -> int:
        return getattr(self, f'{subset}_{split}')


@dataclass(frozen=True)
class VideoTask:
    """One video to write: ``category`` is the S4 sounding category, or ``'multi'`` for MS3."""
    subset: str
    split: str
    index: int
    name: str
    category: str


def _code(text: str) -> int:
    return zlib.crc32(text.encode('utf-8'))


def video_rng(seed: int, subset: str, split: str, index: int) -> np.random.Generator:
    """The generator of one video, independent of every other video."""
    return np.random.default_rng([seed, _code(subset), _code(split), index])


def plan_videos(cfg: SynthAVSConfig) -> List[VideoTask]:
    """All videos of the benchmark, S4 then MS3, each split in order.

    S4 categories are balanced within a split (counts differ by at most one) and shuffled.
    """
    tasks = []
    for subset in SUBSETS:
        for split in SPLITS:
            n = cfg.count(subset, split)
            if subset == 's4':
                order = np.random.default_rng([cfg.seed, _code(subset), _code(split)])
                cats = [CATEGORIES[i % len(CATEGORIES)] for i in range(n)]
                cats = [cats[i] for i in order.permutation(n)]
            else:
                cats = ['multi'] * n
            for i in range(n):
                tasks.append(
                    VideoTask(subset, split, i, f'synth_{subset}_{split}_{i:04d}', cats[i]))
    return tasks


def _layout(root: str, subset: str):
    return S4Layout(root) if subset == 's4' else MS3Layout(root)


def mask_frames(task: VideoTask) -> List[int]:
    """Frames with a mask file: S4 train annotates only the first frame, like AVSBench."""
    if task.subset == 's4' and task.split == 'train':
        return [0]
    return list(range(FRAMES_PER_CLIP))


def video_files(root: str, task: VideoTask) -> List[str]:
    """Every path that :func:`write_video` writes for ``task``."""
    lay = _layout(root, task.subset)
    args = (task.split, task.category, task.name)
    paths = [lay.frame(*args, f) for f in range(FRAMES_PER_CLIP)]
    paths += [lay.mask(*args, f) for f in mask_frames(task)]
    paths.append(lay.wav(*args))
    return paths


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and os.replace."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def _png_bytes(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode('.png', img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError('PNG encoding failed')
    return buf.tobytes()


def _wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, sr, format='WAV', subtype='PCM_16')
    return buf.getvalue()


def write_video(root: str, cfg: SynthAVSConfig, task: VideoTask) -> None:
    """Generate one video and write its frames (RGB PNG), masks (0/255 PNG) and wav (16 kHz,
    16-bit mono, 5 s)."""
    rng = video_rng(cfg.seed, task.subset, task.split, task.index)
    if task.subset == 's4':
        objects = sample_s4_objects(task.category, rng, cfg.size)
    else:
        objects = sample_ms3_objects(rng, cfg.size)
    frames_with_masks = mask_frames(task)
    clip = render_clip(objects, rng, cfg.size, mask_frames=frames_with_masks)
    lay = _layout(root, task.subset)
    args = (task.split, task.category, task.name)
    for f in range(FRAMES_PER_CLIP):
        atomic_write_bytes(lay.frame(*args, f), _png_bytes(clip.frames[f][..., ::-1]))
    for f in frames_with_masks:
        atomic_write_bytes(lay.mask(*args, f), _png_bytes(clip.masks[f]))
    atomic_write_bytes(lay.wav(*args), _wav_bytes(clip.audio, SAMPLE_RATE))


def _csv_bytes(header: List[str], rows: List[List[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode('utf-8')


def write_csvs(root: str, tasks: List[VideoTask]) -> None:
    """``s4_meta_data.csv`` (``name,start_time,category,split``) and ``ms3_meta_data.csv``
    (``vid,split``)."""
    s4 = [[t.name, '0', t.category, t.split] for t in tasks if t.subset == 's4']
    ms3 = [[t.name, t.split] for t in tasks if t.subset == 'ms3']
    atomic_write_bytes(
        S4Layout(root).csv_path, _csv_bytes(['name', 'start_time', 'category', 'split'], s4))
    atomic_write_bytes(MS3Layout(root).csv_path, _csv_bytes(['vid', 'split'], ms3))


def _manifest(cfg: SynthAVSConfig, complete: bool) -> dict:
    return dict(generator='mmavs.synth', version=SYNTH_VERSION, args=asdict(cfg), complete=complete)


def _write_manifest(root: str, cfg: SynthAVSConfig, complete: bool) -> None:
    text = json.dumps(_manifest(cfg, complete), indent=2, sort_keys=True) + '\n'
    atomic_write_bytes(osp.join(root, MANIFEST_NAME), text.encode('utf-8'))


def prepare_root(root: str, cfg: SynthAVSConfig, overwrite: bool = False) -> None:
    """Check that ``root`` may receive this benchmark; clear it first when ``overwrite``.

    Raises:
        FileExistsError: ``root`` holds a benchmark made with other arguments or another
            generator version, or an AVSBench-like tree without a SynthAVS manifest.
    """
    manifest_path = osp.join(root, MANIFEST_NAME)
    ours = [osp.join(root, d) for d in (S4_DIR, MS3_DIR)]
    wanted = _manifest(cfg, complete=False)
    problem = None
    if osp.isfile(manifest_path):
        with open(manifest_path, encoding='utf-8') as f:
            found = json.load(f)
        found_args = found.get('args') or {}
        diffs = [
            f'{k}: {found_args.get(k)!r} on disk, {v!r} requested'
            for k, v in wanted['args'].items() if found_args.get(k) != v
        ]
        if found.get('version') != wanted['version']:
            diffs.insert(
                0, f'version: {found.get("version")!r} on disk, '
                f'{wanted["version"]!r} requested')
        if diffs:
            problem = f'{manifest_path} differs ({"; ".join(diffs)})'
    elif any(osp.exists(p) for p in ours):
        problem = (f'{root} holds {S4_DIR}/ or {MS3_DIR}/ but no {MANIFEST_NAME}: '
                   'not a SynthAVS root (a real AVSBench copy?)')
    if problem is None:
        return
    if not osp.isfile(manifest_path):
        raise FileExistsError(f'refusing to write SynthAVS into {root}: {problem}. Nothing is '
                              'deleted without the SynthAVS marker; choose another root, or move '
                              'that tree away yourself.')
    if not overwrite:
        raise FileExistsError(f'refusing to write SynthAVS into {root}: {problem}. '
                              'Pass overwrite=True (--overwrite) to replace it.')
    remove_generated_files(root, found)


#: Files the mmavs tools derive from a SynthAVS tree (log-mel caches are matched per video).
DERIVED_FILE_PATTERN = re.compile(r'robust_manifest_(s4|ms3)_seed\d+\.json$')


def _written_files(root: str, cfg: SynthAVSConfig) -> set:
    """Every file a run with ``cfg`` writes or the mmavs tools derive from it, as real paths."""
    paths = {S4Layout(root).csv_path, MS3Layout(root).csv_path}
    for task in plan_videos(cfg):
        files = video_files(root, task)
        lay = _layout(root, task.subset)
        files.append(lay.log_mel(task.split, task.category, task.name))
        paths.update(files)
    return {osp.realpath(p) for p in paths}


def remove_generated_files(root: str, manifest: dict) -> None:
    """Delete the files of the SynthAVS run recorded in ``manifest`` (see the module docstring).

    Raises:
        FileExistsError: The manifest's arguments cannot be read, or the tree holds a file that
            the generator did not write (nothing is deleted then); the message lists them.
    """
    try:
        cfg = SynthAVSConfig(**(manifest.get('args') or {}))
        plan_videos(cfg)
    except (TypeError, ValueError) as err:
        raise FileExistsError(f'refusing to overwrite {root}: the arguments in its '
                              f'{MANIFEST_NAME} cannot be read ({err}), so which files the '
                              'generator wrote is unknown; remove the tree yourself') from None
    known = _written_files(root, cfg)
    ours, foreign = [], []
    for top in (S4_DIR, MS3_DIR):
        for folder, _, names in os.walk(osp.join(root, top)):
            for name in names:
                path = osp.join(folder, name)
                real = osp.realpath(path)
                temp = re.sub(r'\.tmp\d+$', '', real)  # left by an interrupted atomic write
                if osp.islink(path) or not (real in known or temp in known
                                            or DERIVED_FILE_PATTERN.match(name)):
                    foreign.append(path)
                else:
                    ours.append(path)
    if foreign:
        shown = '\n'.join(f'  {p}' for p in foreign[:20])
        more = f'\n  ... and {len(foreign) - 20} more' if len(foreign) > 20 else ''
        raise FileExistsError(
            f'refusing to overwrite {root}: {len(foreign)} file(s) there were not written by the '
            f'SynthAVS generator (nothing was deleted):\n{shown}{more}')
    for path in ours:
        os.remove(path)
    for top in (S4_DIR, MS3_DIR):
        for folder, _, _ in sorted(os.walk(osp.join(root, top)), key=lambda w: -len(w[0])):
            if not os.listdir(folder):
                os.rmdir(folder)
    os.remove(osp.join(root, MANIFEST_NAME))


def _run_task(job) -> None:
    root, cfg, task = job
    write_video(root, cfg, task)


def generate_synth_avs(root: str,
                       cfg: Optional[SynthAVSConfig] = None,
                       overwrite: bool = False,
                       workers: int = 1,
                       progress: bool = True) -> Dict[str, int]:
    """Generate (or resume) a SynthAVS benchmark under ``root``.

    Args:
        root (str): Output folder; receives ``Single-source/``, ``Multi-sources/`` and the manifest.
        cfg (SynthAVSConfig, optional): Arguments; defaults to ``SynthAVSConfig()``.
        overwrite (bool): Replace a root generated with other arguments.
        workers (int): Worker processes (output does not depend on it).
        progress (bool): Show a tqdm progress bar.

    Returns:
        dict: ``videos`` (total), ``written`` (generated now) and ``skipped`` (already complete).
    """
    cfg = SynthAVSConfig() if cfg is None else cfg
    os.makedirs(root, exist_ok=True)
    prepare_root(root, cfg, overwrite=overwrite)
    _write_manifest(root, cfg, complete=False)
    tasks = plan_videos(cfg)
    todo = [t for t in tasks if not all(osp.isfile(p) for p in video_files(root, t))]
    jobs = [(root, cfg, t) for t in todo]
    from tqdm import tqdm
    bar = tqdm(total=len(jobs), desc='SynthAVS', unit='video', disable=not progress)
    if workers > 1 and len(jobs) > 1:
        with get_context('fork').Pool(workers) as pool:
            for _ in pool.imap_unordered(_run_task, jobs, chunksize=4):
                bar.update(1)
    else:
        for job in jobs:
            _run_task(job)
            bar.update(1)
    bar.close()
    write_csvs(root, tasks)
    _write_manifest(root, cfg, complete=True)
    return dict(videos=len(tasks), written=len(todo), skipped=len(tasks) - len(todo))
