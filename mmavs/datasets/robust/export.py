# Copyright (c) mmavs contributors. All rights reserved.
"""Export the negative audio of AVSBench-Robust as AVSBench audio folders, for any codebase.

For every video of the manifest and every negative condition, the waveform that
``RobustTestDataset`` plays (the manifest record -> :func:`.test_dataset.negative_spec` ->
``AddNegativeAudio``, the same code) is written as AVSBench writes its audio, one folder tree per
condition::

    OUT/<condition>/s4_data/audio_wav/<split>/<category>/<name>.wav        (S4)
    OUT/<condition>/s4_data/audio_log_mel/<split>/<category>/<name>.pkl
    OUT/<condition>/ms3_data/audio_wav/<split>/<name>.wav                  (MS3)
    OUT/<condition>/ms3_data/audio_log_mel/<split>/<name>.pkl
    OUT/robust_meta.json

so another AVSBench codebase evaluates a condition by pointing its audio folder at
``OUT/<condition>/s4_data``. The wav is mono 16 kHz 16-bit PCM (:mod:`mmavs.audio.writing`); the
``.pkl`` is AVSBench's log-mel cache, a float32 tensor ``[5, 1, 96, 64]``: the
:func:`mmavs.audio.waveform_to_examples` featurisation (the one of every positive) of exactly the
samples in the wav. ``robust_meta.json`` records the manifest (its SHA-256, version, seed), the
formats and what each file is (``AddNegativeAudio``'s ``negative_source``, e.g.
``noise:pink:seed=123:dbfs=-20.0``). Every byte depends only on the manifest, the data and the
unseen recordings: the same inputs give identical files.

The export is resumable: files are written atomically, a clip whose wav and pkl both exist is
skipped, and an ``OUT`` holding the export of another manifest or of other options is refused.
"""
import hashlib
import json
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from ...audio import AudioLoadError, waveform_to_examples
from ...audio.writing import (PCM16_SCALE, atomic_write_bytes, pcm16_wav_bytes, quantize_pcm16,
                              tensor_pickle_bytes)
from ...utils.constants import FRAMES_PER_CLIP, NEGATIVE_CONDITIONS, SAMPLE_RATE
from ...version import __version__
from ..layout import SPLITS, MS3Layout, S4Layout
from .base import collect_video_infos
from .manifest import (SUBSET_DATASETS, SUBSET_DIRS, ManifestError, default_manifest_path,
                       load_manifest, manifest_command)
from .test_dataset import negative_spec
from .waveforms import resolve_unseen_dir

EXPORT_FORMAT = 'mmavs-avsbench-robust-audio'
EXPORT_VERSION = 1
META_NAME = 'robust_meta.json'
#: The AVSBench layout of each subset (paths relative to a condition folder come from it).
LAYOUTS = {'s4': S4Layout, 'ms3': MS3Layout}
#: What each negative condition's audio is (written into ``robust_meta.json``).
CONDITION_TEXT = {
    'silence':
    '5 s of digital silence',
    'noise':
    '5 s of seeded white/pink/brown noise at the manifest\'s RMS level (dB FS)',
    'offscreen':
    'the whole audio of the donor video named in the manifest (another video of '
    'the same split, another coarse group), as mmavs.audio.load_audio reads it',
    'unseen':
    '5 s of the unseen recording named in the manifest (mmavs/resources/unseen_audio), '
    'mixed to mono, resampled to 16 kHz, cut or looped to 5 s',
}


class ExportError(ValueError):
    """The output folder holds an export of another manifest or of other options."""


@dataclass(frozen=True)
class ExportClip:
    """One exported clip: a video under a negative condition."""
    condition: str
    split: str
    video_id: str
    category: Optional[str]
    wav: str  # relative to OUT
    log_mel: str  # relative to OUT


def clip_paths(subset: str, condition: str, split: str, category: Optional[str],
               name: str) -> tuple:
    """``(wav, pkl)`` of a clip relative to ``OUT``, in the AVSBench layout of ``subset``."""
    layout = LAYOUTS[subset]('')
    top = osp.dirname(layout.base)  # 'Single-source' / 'Multi-sources'
    return (osp.join(condition, osp.relpath(layout.wav(split, category, name), top)),
            osp.join(condition, osp.relpath(layout.log_mel(split, category, name), top)))


def default_export_dir(data_root: str, subset: str, seed: int) -> str:
    """``<data_root>/<Single-source|Multi-sources>/robust_audio_seed<seed>``."""
    return osp.join(data_root, SUBSET_DIRS[subset], f'robust_audio_seed{seed}')


def check_data_root(manifest: dict, data_root: str, subset: str, splits: Sequence[str],
                    path: str) -> None:
    """Raise unless the data root holds exactly the videos the manifest lists for ``splits``.

    Raises:
        FileNotFoundError: files of the data root are missing (listed by the dataset).
        ManifestError: a manifest video is missing from the data root, or the other way round.
    """
    listed = collect_video_infos(dict(type=SUBSET_DATASETS[subset], data_root=data_root), splits)
    command = manifest_command(data_root, subset, manifest.get('seed', 42))
    for split in splits:
        have = {info['video_id'] for info in listed[split]}
        want = set(manifest['videos'].get(split, {}))
        absent = sorted(want - have)
        if absent:
            raise ManifestError(
                f'{len(absent)} video(s) of split {split!r} of the manifest {path} are missing '
                f'from the data root {data_root} (not listed by its {subset.upper()} metadata '
                f'CSV), e.g. {absent[:5]}: is it the data the manifest was made for?')
        extra = sorted(have - want)
        if extra:
            raise ManifestError(
                f'{len(extra)} video(s) of split {split!r} of {data_root} have no record in the '
                f'manifest {path}, e.g. {extra[:5]}; regenerate it: {command}')


def plan_clips(manifest: dict, subset: str, conditions: Sequence[str],
               splits: Sequence[str]) -> List[ExportClip]:
    """Every clip to export, in a fixed order (condition, split, video id)."""
    clips = []
    for condition in conditions:
        for split in splits:
            for vid, record in sorted(manifest['videos'].get(split, {}).items()):
                wav, pkl = clip_paths(subset, condition, split, record.get('category'), vid)
                clips.append(ExportClip(condition, split, vid, record.get('category'), wav, pkl))
    return clips


def file_sha256(path: str) -> str:
    with open(path, 'rb') as file:
        return hashlib.sha256(file.read()).hexdigest()


def build_meta(manifest: dict, manifest_path: str, subset: str, conditions: Sequence[str],
               splits: Sequence[str], clips: Sequence[ExportClip], sources: Dict) -> dict:
    """The content of ``robust_meta.json`` (no timestamps, no absolute paths)."""
    layout = {
        'wav': clip_paths(subset, '<condition>', '<split>', '<category>', '<name>')[0],
        'log_mel': clip_paths(subset, '<condition>', '<split>', '<category>', '<name>')[1],
    }
    if subset == 'ms3':
        layout = {k: v.replace('<category>/', '') for k, v in layout.items()}
    files = OrderedDict()
    for clip in clips:
        files.setdefault(clip.condition,
                         OrderedDict()).setdefault(clip.split,
                                                   OrderedDict())[clip.video_id] = sources[clip]
    return dict(
        format=EXPORT_FORMAT,
        version=EXPORT_VERSION,
        mmavs_version=__version__,
        subset=subset,
        splits=list(splits),
        conditions={c: CONDITION_TEXT[c]
                    for c in conditions},
        manifest=dict(
            file=osp.basename(manifest_path),
            sha256=file_sha256(manifest_path),
            format=manifest.get('format'),
            version=manifest.get('version'),
            seed=manifest.get('seed'),
            arguments=manifest.get('arguments'),
            fingerprint=manifest.get('fingerprint')),
        layout=layout,
        wav=f'RIFF/WAVE, mono, {SAMPLE_RATE} Hz, 16-bit PCM (int16 = round(x * 32768), clipped)',
        log_mel=f'pickle of a float32 torch tensor [{FRAMES_PER_CLIP}, 1, 96, 64]: '
        f'mmavs.audio.waveform_to_examples of the wav\'s samples (int16 / 32768), '
        f'{FRAMES_PER_CLIP} examples (cut, or the last one repeated)',
        files=files)


def meta_to_json(meta: dict) -> str:
    return json.dumps(meta, indent=1, ensure_ascii=True) + '\n'


def export_robust_audio(data_root: str,
                        subset: str,
                        manifest_path: Optional[str] = None,
                        out_dir: Optional[str] = None,
                        conditions: Sequence[str] = NEGATIVE_CONDITIONS,
                        splits: Optional[Sequence[str]] = None,
                        unseen_dir: Optional[str] = None,
                        seed: int = 42,
                        overwrite: bool = False,
                        progress: bool = True) -> dict:
    """Export the negative audio of a manifest (see the module docstring).

    Args:
        data_root (str): AVSBench (or SynthAVS) root; the off-screen donors' wavs are read here.
        subset (str): ``'s4'`` or ``'ms3'``.
        manifest_path (str, optional): The manifest; default
            :func:`~.manifest.default_manifest_path` of ``data_root``, ``subset``, ``seed``.
        out_dir (str, optional): Output folder; default :func:`default_export_dir`.
        conditions (Sequence[str]): Negative conditions to export. Default all four.
        splits (Sequence[str], optional): Splits to export. Default every split of the manifest.
        unseen_dir (str, optional): Folder of the unseen recordings (default: the shipped ones).
        seed (int): Seed of the default manifest. Default 42.
        overwrite (bool): Rewrite every file, also over another export. Default False.
        progress (bool): Show a progress bar on stderr. Default True.

    Returns:
        dict: ``out_dir``, ``meta`` (path of ``robust_meta.json``), ``written`` and ``skipped``
        clip counts.

    Raises:
        ManifestError: missing or malformed manifest, another subset, or videos missing from
            the data root (named).
        ExportError: ``out_dir`` holds an export of another manifest or of other options.
        mmavs.audio.AudioLoadError: a donor wav or unseen recording cannot be read (named, with
            the video).
    """
    from ..transforms.negative_audio import AddNegativeAudio  # the transforms import this package
    if subset not in LAYOUTS:
        raise ValueError(f'expected subset in {tuple(LAYOUTS)}, found {subset!r}')
    unknown = [c for c in conditions if c not in NEGATIVE_CONDITIONS]
    if unknown or not conditions:
        raise ValueError(f'expected negative conditions from {NEGATIVE_CONDITIONS}, found '
                         f'{list(conditions)}')
    manifest_path = manifest_path or default_manifest_path(data_root, subset, seed)
    manifest = load_manifest(manifest_path,
                             f'Generate it with: {manifest_command(data_root, subset, seed)}')
    if manifest.get('subset') != subset:
        raise ManifestError(f'expected a manifest of subset {subset!r}, found '
                            f'{manifest.get("subset")!r} in {manifest_path}')
    splits = [s for s in SPLITS if s in manifest['videos']] if splits is None else list(splits)
    absent = [s for s in splits if s not in manifest['videos']]
    if absent:
        raise ManifestError(f'the manifest {manifest_path} has no split {absent}')
    if 'unseen' in conditions and not manifest.get('unseen_files'):
        raise ManifestError(f'condition unseen: the manifest {manifest_path} lists no unseen '
                            f'recordings (written with --no-unseen)')
    check_data_root(manifest, data_root, subset, splits, manifest_path)
    out_dir = out_dir or default_export_dir(data_root, subset, manifest.get('seed', seed))
    clips = plan_clips(manifest, subset, conditions, splits)
    unseen_folder = resolve_unseen_dir(unseen_dir)
    transform = AddNegativeAudio(unseen_dir=unseen_folder)
    specs = {
        clip:
        negative_spec(clip.condition, manifest['videos'][clip.split][clip.video_id], data_root,
                      unseen_folder)
        for clip in clips
    }
    sources = {clip: _source_of(clip, specs[clip]) for clip in clips}
    meta = meta_to_json(
        build_meta(manifest, manifest_path, subset, conditions, splits, clips, sources))
    meta_path = osp.join(out_dir, META_NAME)
    if osp.isfile(meta_path) and not overwrite:
        with open(meta_path, encoding='ascii') as file:
            if file.read() != meta:
                raise ExportError(f'{out_dir} holds an export of another manifest or other options '
                                  f'({meta_path} differs); choose another --out, or --overwrite')
    atomic_write_bytes(meta_path, meta.encode('ascii'))
    written = skipped = 0
    iterator = clips
    if progress:
        from tqdm import tqdm
        iterator = tqdm(clips, desc=f'export {subset}', unit='clip')
    for clip in iterator:
        wav, pkl = osp.join(out_dir, clip.wav), osp.join(out_dir, clip.log_mel)
        if not overwrite and osp.isfile(wav) and osp.isfile(pkl):
            skipped += 1
            continue
        try:
            results = transform(
                dict(
                    condition=clip.condition,
                    negative=specs[clip],
                    video_id=clip.video_id,
                    img_path=f'{clip.split}/{clip.video_id}'))
        except AudioLoadError as err:
            raise AudioLoadError(f'cannot export the {clip.condition} audio of video '
                                 f'{clip.video_id!r} (split {clip.split!r}): {err}') from err
        if results['negative_source'] != sources[clip]:  # the plan and the transform agree
            raise RuntimeError(f'{clip}: AddNegativeAudio played {results["negative_source"]}, '
                               f'expected {sources[clip]}')
        write_clip(wav, pkl, results['audio_waveform'])
        written += 1
    return dict(out_dir=out_dir, meta=meta_path, written=written, skipped=skipped)


def _source_of(clip: ExportClip, spec: dict) -> str:
    """``AddNegativeAudio``'s ``negative_source`` of a clip, known before it is played."""
    if clip.condition == 'silence':
        return 'silence'
    if clip.condition == 'noise':
        return (f'noise:{spec["noise_type"]}:seed={int(spec["noise_seed"])}:'
                f'dbfs={float(spec["noise_dbfs"])}')
    if clip.condition == 'offscreen':
        return f'offscreen:{spec["donor_video_id"]}'
    return f'unseen:{osp.basename(spec["unseen_file"])}'


def write_clip(wav_path: str, pkl_path: str, waveform: np.ndarray) -> None:
    """Write a waveform (16 kHz, float ``[T]``) as the wav and the log-mel pkl of its samples.

    The pkl is written last, so a clip whose pkl exists is complete.
    """
    samples = quantize_pcm16(waveform)
    heard = samples.astype(np.float32) / PCM16_SCALE  # what load_audio reads from the wav
    examples = waveform_to_examples(heard, SAMPLE_RATE, num_examples=FRAMES_PER_CLIP)
    # renamed into place, not flushed to disk: an interrupted export leaves whole files
    atomic_write_bytes(wav_path, pcm16_wav_bytes(heard, SAMPLE_RATE), fsync=False)
    atomic_write_bytes(pkl_path, tensor_pickle_bytes(examples.unsqueeze(1)), fsync=False)
