# Copyright (c) mmavs contributors. All rights reserved.
"""Check the content of an AVSBench-layout dataset before it is used: every problem in one list.

A dataset (:class:`~mmavs.datasets.avsbench.AVSBenchS4Dataset` / ``MS3``, SynthAVS) already
refuses missing files and bad CSV rows when it is built. This module checks what the files hold,
at two depths:

``'fast'`` (headers and sizes, no decoding; what the Runner runs before training):
    frames and masks open as images and each mask has its frame's size; a wav's RIFF header
    declares as many frames as the file holds and lasts the clip length (5 s, within
    :data:`mmavs.audio.DURATION_TOLERANCE`); a log-mel cache is not empty.
``'full'`` (``tools/misc/check_dataset.py``):
    everything above, plus every frame and mask decoded (a truncated PNG fails here), masks
    binary (0/255), every wav decoded (frames read equal the header, no NaN/Inf) and every
    log-mel cache read and validated (``[N, 1, 96, 64]``, finite).

:func:`check_dataset` returns a list of :class:`DataProblem` (file, problem, expected, found,
CSV line), checking the files in parallel threads (decoders release the GIL).
"""
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from ..audio import DURATION_TOLERANCE, AudioLoadError, load_audio, load_log_mel_cache
from ..audio.loading import wav_header_frames
from ..utils.constants import CLIP_SECONDS, FRAMES_PER_CLIP

#: Check depths.
MODES = ('off', 'fast', 'full')


@dataclass(frozen=True)
class DataProblem:
    """One problem of one file."""
    path: str
    problem: str
    expected: str = ''
    found: str = ''
    where: str = ''  #: the CSV line and video it belongs to

    def format(self) -> str:
        text = f'{self.path}: {self.problem}'
        if self.expected or self.found:
            text += f' (expected {self.expected or "-"}, found {self.found or "-"})'
        return text + (f' [{self.where}]' if self.where else '')


class DataCheckError(ValueError):
    """A dataset has problems; the message lists every one."""

    def __init__(self, problems: Sequence[DataProblem], what: str = 'the dataset') -> None:
        self.problems = list(problems)
        super().__init__(format_problems(self.problems, what))


def format_problems(problems: Sequence[DataProblem], what: str = 'the dataset') -> str:
    """One line per problem under a header with their count."""
    lines = [f'{len(problems)} problem(s) in {what}:']
    lines += [f'  {p.format()}' for p in problems]
    return '\n'.join(lines)


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`MODES`, else a ValueError."""
    if mode not in MODES:
        raise ValueError(f'expected data_check in {MODES}, found {mode!r}')
    return mode


def _open_image(path: str, full: bool) -> Tuple[Optional[Image.Image], Optional[DataProblem]]:
    try:
        im = Image.open(path)
        if full:
            im.load()
        return im, None
    except (OSError, ValueError, SyntaxError) as err:
        depth = 'decoded' if full else 'opened'
        return None, DataProblem(path, f'cannot be {depth} as an image: {err}')


def check_frame(path: str, full: bool) -> Tuple[Optional[Tuple[int, int]], List[DataProblem]]:
    """``((width, height) or None, problems)`` of a video frame."""
    im, problem = _open_image(path, full)
    if im is None:
        return None, [problem]
    with im:
        size = im.size
        if full:
            arr = np.asarray(im)
            if arr.size == 0:
                return size, [DataProblem(path, 'empty image', 'pixels', f'{size}')]
    return size, []


def check_mask(path: str, frame_size: Optional[Tuple[int, int]], full: bool) -> List[DataProblem]:
    """Problems of a mask: unreadable, another size than its frame, or (full) not 0/255."""
    im, problem = _open_image(path, full)
    if im is None:
        return [problem]
    problems = []
    with im:
        if frame_size is not None and im.size != frame_size:
            problems.append(
                DataProblem(path, 'mask size differs from its frame', f'{frame_size[0]}x'
                            f'{frame_size[1]} (W x H)', f'{im.size[0]}x{im.size[1]}'))
        if full and im.mode != '1':
            arr = np.asarray(im.convert('L') if im.mode not in ('L', 'I;16', 'I') else im)
            values = np.unique(arr)
            bad = values[(values != 0) & (values != 255)]
            if bad.size:
                shown = ', '.join(str(int(v)) for v in bad[:6]) + (' ...' if bad.size > 6 else '')
                problems.append(DataProblem(path, 'mask is not binary', 'values 0/255', shown))
    return problems


def check_wav(path: str,
              full: bool,
              clip_seconds: float = CLIP_SECONDS,
              tolerance: float = DURATION_TOLERANCE) -> List[DataProblem]:
    """Problems of a clip's audio: header vs file length, duration, (full) decoding."""
    try:
        if os.stat(path).st_size == 0:
            return [DataProblem(path, 'empty audio file', '> 0 bytes', '0 bytes')]
        wav = wav_header_frames(path)
    except OSError as err:
        return [DataProblem(path, f'cannot read the audio file: {err}')]
    problems = []
    if wav is not None:
        sr = wav.sample_rate
        if wav.header is not None and wav.header != wav.available:
            problems.append(
                DataProblem(
                    path, 'fewer frames in the file than its header declares'
                    if wav.available < wav.header else 'more frames than the header',
                    f'{wav.header} frames (header)', f'{wav.available} frames'))
        frames = wav.available if wav.header is None else min(wav.header, wav.available)
        duration = frames / sr if sr else 0.0
        if abs(duration - clip_seconds) > tolerance:
            problems.append(
                DataProblem(path, 'audio duration differs from the clip length',
                            f'{clip_seconds:g} s +- {tolerance:g}', f'{duration:.3f} s'))
    if full and not problems:
        try:
            load_audio(path, target_sr=None, expected_seconds=clip_seconds, tolerance=tolerance)
        except AudioLoadError as err:
            problems.append(DataProblem(path, f'audio cannot be used: {err}'))
    return problems


def check_log_mel(path: str, full: bool, num_examples: int = FRAMES_PER_CLIP) -> List[DataProblem]:
    """Problems of a log-mel cache: empty, or (full) not ``[N, 1, 96, 64]`` finite values."""
    try:
        if os.stat(path).st_size == 0:
            return [DataProblem(path, 'empty log-mel cache', '> 0 bytes', '0 bytes')]
    except OSError as err:
        return [DataProblem(path, f'cannot read the log-mel cache: {err}')]
    if not full:
        return []
    try:
        examples = load_log_mel_cache(path)
    except (ValueError, OSError) as err:
        return [DataProblem(path, f'log-mel cache cannot be used: {err}')]
    if examples.shape[0] != num_examples:
        return [
            DataProblem(path, 'log-mel cache holds another number of examples',
                        f'{num_examples} examples', f'{examples.shape[0]}')
        ]
    return []


def check_video(video: dict, mode: str) -> List[DataProblem]:
    """Every problem of one video record (``video_infos`` entry of an AVSBench dataset)."""
    full = mode == 'full'
    where = f"line {video.get('line', '?')} ({video['video_id']})"
    problems: List[DataProblem] = []
    for frame in video['frames']:
        size, frame_problems = check_frame(frame['img_path'], full)
        problems += frame_problems
        mask = frame.get('seg_map_path')
        if mask:
            problems += check_mask(mask, size, full)
    wav, pkl = video.get('audio_path'), video.get('log_mel_path')
    if wav and osp.isfile(wav):
        problems += check_wav(wav, full)
    if pkl and osp.isfile(pkl):
        problems += check_log_mel(pkl, full)
    return [DataProblem(p.path, p.problem, p.expected, p.found, p.where or where) for p in problems]


def _avsbench_datasets(dataset) -> List:
    """The AVSBench-layout datasets inside ``dataset`` (unwrapping robust and concat wrappers)."""
    found, todo, seen = [], [dataset], set()
    while todo:
        ds = todo.pop(0)
        if ds is None or id(ds) in seen:
            continue
        seen.add(id(ds))
        if hasattr(ds, 'scan_videos'):
            found.append(ds)
        todo += [getattr(ds, 'dataset', None)] + list(getattr(ds, 'datasets', []) or [])
    return found


def iter_videos(dataset) -> Iterable[dict]:
    """The video records of every AVSBench-layout dataset inside ``dataset``."""
    for ds in _avsbench_datasets(dataset):
        if not ds.video_infos:
            ds.scan_videos()
        yield from ds.video_infos


def check_videos(videos: Sequence[dict],
                 mode: str = 'full',
                 workers: Optional[int] = None,
                 progress: bool = False,
                 what: str = 'videos') -> List[DataProblem]:
    """Check ``videos`` in ``workers`` threads; problems in input order.

    Args:
        videos (Sequence[dict]): Video records (``video_infos`` entries).
        mode (str): ``'fast'`` or ``'full'`` (``'off'`` checks nothing).
        workers (int, optional): Threads. Default: the CPU count (at most 16).
        progress (bool): Show a progress bar (MMEngine's) on the terminal.
        what (str): What the bar is titled.
    """
    if check_mode(mode) == 'off' or not videos:
        return []
    workers = workers or min(16, os.cpu_count() or 1)
    results: List[List[DataProblem]] = []
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        print(f'checking {what} ({mode}): {len(videos)} videos')
        bar = ProgressBar(len(videos))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for found in pool.map(lambda v: check_video(v, mode), videos):
            results.append(found)
            if bar is not None:
                bar.update()
    if bar is not None:
        print()
    return [p for found in results for p in found]


def check_dataset(dataset,
                  mode: str = 'full',
                  workers: Optional[int] = None,
                  progress: bool = False) -> List[DataProblem]:
    """Check every video of the AVSBench-layout datasets inside ``dataset`` (see the module)."""
    videos = list(iter_videos(dataset))
    return check_videos(
        videos, mode, workers, progress, what=f'{type(dataset).__name__} ({len(videos)} videos)')
