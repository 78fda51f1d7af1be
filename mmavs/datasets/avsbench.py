# Copyright (c) mmavs contributors. All rights reserved.
"""AVSBench S4 (single source) and MS3 (multiple sources) datasets, frame-level.

One sample is one video frame with the audio example of the same second (frame ``i`` <-> example
``i``, 0.96 s of log-mel) and its binary mask. S4 *train* annotates only the first frame, so it
yields one sample per video (``frame_idx`` 0); S4 val/test and every MS3 split yield all 5 frames.

The dataset only builds ``data_list`` (MMSeg style); loading image, audio and mask is the pipeline's
job (``LoadImageFromFile``, :class:`LoadAVSAudio`, :class:`LoadAVSMask`, ...). Before any training
starts, ``load_data_list`` checks that every CSV row has a known split (and, S4, a known category)
and that every file the samples need exists, and raises one error listing every bad row or
missing path with its CSV line. The content of the files is checked by
:mod:`mmavs.datasets.data_check` (``tools/misc/check_dataset.py``, and before training). The
audio of a video needs the wav or, when ``use_log_mel_cache=True``, the cached log-mel ``.pkl``.

Data-info keys (``docs/design.md``): ``img_path``, ``seg_map_path``, ``audio_path``,
``log_mel_path``, ``frame_idx``, ``video_id``, ``category``, ``split``, ``is_sounding`` (1),
``condition`` (``'positive'``), ``reduce_zero_label`` (False), ``seg_fields``, ``label_map``.
Video-level records are kept in :attr:`video_infos` for wrappers that pair videos (AVSBench-Robust).
"""
import csv
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..utils.constants import FRAMES_PER_CLIP, MULTI_SOURCE_CATEGORY
from .categories import CATEGORY_GROUPS, get_coarse_group
from .layout import MS3_CSV, S4_CSV, SPLITS, MS3Layout, S4Layout, check_split

#: How many missing paths an error message lists before it only gives the count.
MAX_LISTED_MISSING = 20


def read_meta_csv(csv_path: str, required: Sequence[str]) -> List[Dict[str, str]]:
    """Read a metadata CSV by its header.

    Args:
        csv_path (str): The CSV file.
        required (Sequence[str]): Columns that must be present.

    Returns:
        list[dict]: One dict per data row (column -> stripped value), with ``'_line'``, the
        row's line number in the file (header = line 1).
    """
    if not osp.isfile(csv_path):
        raise FileNotFoundError(f'metadata CSV not found: {csv_path}')
    with open(csv_path, newline='', encoding='utf-8-sig') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f'expected a header row, found an empty file: {csv_path}')
        header = [h.strip() for h in header]
        missing = [c for c in required if c not in header]
        if missing:
            raise ValueError(f'expected columns {list(required)} in {csv_path}, found header '
                             f'{header} (missing {missing})')
        rows = []
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) < len(header):
                raise ValueError(f'expected {len(header)} columns, found {len(values)} at line '
                                 f'{line} of {csv_path}: {values}')
            row = {h: v.strip() for h, v in zip(header, values)}
            row['_line'] = line
            rows.append(row)
    return rows


class _AVSBenchDataset(BaseSegDataset):
    """Shared logic of the S4 and MS3 datasets (one CSV row = one video of 5 frames).

    Args:
        data_root (str): Folder holding ``Single-source/`` and ``Multi-sources/``.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        pipeline (list): Transforms applied to each sample.
        ann_file (str): Metadata CSV, relative to ``data_root``. Defaults to the official one.
        use_log_mel_cache (bool): Accept a cached log-mel ``.pkl`` in place of a missing wav and
            pass its path to the pipeline (``log_mel_path``). False: every video needs its wav and
            ``log_mel_path`` is None, so audio is always featurised from the wav.
        test_mode (bool): MMEngine test mode.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset` (``indices``, ``lazy_init``,
            ``serialize_data``, ``metainfo``, ...).
    """
    METAINFO = dict(classes=('background', 'sounding'), palette=[[0, 0, 0], [255, 255, 255]])
    # Subclasses set these and define ``_videos_from_rows(rows) -> [dict(video_id, category,
    # line)]``; they may override ``_frames_of(video) -> [frame_idx, ...]`` (default: all 5).
    DEFAULT_ANN_FILE = ''
    NAME = ''
    #: ``'s4'`` or ``'ms3'``: the AVSBench-Robust manifest this dataset's videos are listed in.
    SUBSET = ''
    LAYOUT = S4Layout
    REQUIRED_COLUMNS: Sequence[str] = ('split', )

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: List[Union[dict, Callable]] = [],
                 ann_file: Optional[str] = None,
                 use_log_mel_cache: bool = True,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.split = check_split(split)
        self.use_log_mel_cache = use_log_mel_cache
        self.video_infos: List[dict] = []
        kwargs.setdefault('reduce_zero_label', False)
        if kwargs['reduce_zero_label']:
            raise ValueError('AVSBench masks are binary (0 = background, 1 = sounding): '
                             'reduce_zero_label must be False')
        super().__init__(
            ann_file=self.DEFAULT_ANN_FILE if ann_file is None else ann_file,
            img_suffix='.png',
            seg_map_suffix='.png',
            data_root=data_root,
            data_prefix=dict(img_path='', seg_map_path=''),
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    def _frames_of(self, video: dict) -> List[int]:
        """0-based frames of ``video`` that become samples."""
        return list(range(FRAMES_PER_CLIP))

    # -- data list -----------------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Build one data info per sample frame; check every needed file first.

        Raises:
            ValueError: No row of the CSV has this split, or a video id is repeated.
            FileNotFoundError: Files are missing (all of them listed, with their CSV rows).
        """
        missing = self.scan_videos()
        if missing:
            raise FileNotFoundError(self._missing_message(missing))
        return [
            self._sample_info(info, frame) for info in self.video_infos for frame in info['frames']
        ]

    def scan_videos(self, allow_empty: bool = False) -> List[tuple]:
        """Read the CSV, validate its rows and fill :attr:`video_infos` (this split's videos).

        Args:
            allow_empty (bool): A split without rows gives no videos instead of an error.

        Returns:
            list[tuple]: ``(row description, path)`` of every missing file (empty when all
            exist).

        Raises:
            ValueError: A row has an unknown split or category (every such row is listed with
                its line), no row has this split, or a video id is repeated.
        """
        layout = self.LAYOUT(self.data_root)
        all_rows = read_meta_csv(self.ann_file, self.REQUIRED_COLUMNS)
        bad = [(r['_line'], f"unknown split '{r['split']}' (expected one of {SPLITS})")
               for r in all_rows if r['split'] not in SPLITS]
        rows = [r for r in all_rows if r['split'] == self.split]
        bad += self._check_rows(rows)
        if bad:
            listed = '\n'.join(f'  line {line}: {problem}' for line, problem in sorted(bad))
            raise ValueError(f'{len(bad)} invalid row(s) in {self.ann_file}:\n{listed}')
        if not rows and not allow_empty:
            raise ValueError(f"no row with split='{self.split}' in {self.ann_file}")
        videos = self._videos_from_rows(rows)
        seen = {}
        for video in videos:
            if video['video_id'] in seen:
                raise ValueError(f"video '{video['video_id']}' listed twice (lines "
                                 f"{seen[video['video_id']]} and {video['line']}) in "
                                 f'{self.ann_file}')
            seen[video['video_id']] = video['line']

        missing = []  # (row description, path)
        self.video_infos = []
        for video in videos:
            info, video_missing = self._video_info(layout, video)
            info['line'] = video['line']
            where = f"line {video['line']} ({video['video_id']})"
            missing.extend((where, p) for p in video_missing)
            self.video_infos.append(info)
        return missing

    def _check_rows(self, rows: List[Dict[str, str]]) -> List[tuple]:
        """``(line, problem)`` of rows of this split that cannot be used (none by default)."""
        return []

    def _video_info(self, layout, video: dict):
        vid, cat, split = video['video_id'], video['category'], self.split
        wav = layout.wav(split, cat, vid)
        pkl = layout.log_mel(split, cat, vid)
        missing = []
        has_wav = osp.isfile(wav)
        has_pkl = self.use_log_mel_cache and osp.isfile(pkl)
        if not (has_wav or has_pkl):
            missing.append(f'{wav} (or {pkl})' if self.use_log_mel_cache else wav)
        frames = []
        for idx in self._frames_of(video):
            img = layout.frame(split, cat, vid, idx)
            mask = layout.mask(split, cat, vid, idx)
            missing.extend(p for p in (img, mask) if not osp.isfile(p))
            frames.append(dict(frame_idx=idx, img_path=img, seg_map_path=mask))
        info = dict(
            video_id=vid,
            category=cat,
            group=get_coarse_group(cat),
            split=split,
            audio_path=wav,
            log_mel_path=pkl if self.use_log_mel_cache else None,
            frames=frames)
        return info, missing

    def _sample_info(self, video: dict, frame: dict) -> dict:
        info = dict(
            img_path=frame['img_path'],
            seg_map_path=frame['seg_map_path'],
            audio_path=video['audio_path'],
            log_mel_path=video['log_mel_path'],
            frame_idx=frame['frame_idx'],
            video_id=video['video_id'],
            category=video['category'],
            split=video['split'],
            is_sounding=1,
            condition='positive',
            label_map=self.label_map,
            reduce_zero_label=self.reduce_zero_label,
            seg_fields=[])
        return info

    def _missing_message(self, missing: List[tuple]) -> str:
        listed = '\n'.join(f'  {where}: {path}' for where, path in missing[:MAX_LISTED_MISSING])
        more = len(missing) - MAX_LISTED_MISSING
        tail = f'\n  ... and {more} more' if more > 0 else ''
        return (f'{self.NAME} {self.split} split: {len(missing)} file(s) missing under '
                f'{self.data_root} (videos listed in {self.ann_file}):\n{listed}{tail}')

    # -- video-level helpers -------------------------------------------------------------------
    @property
    def subset(self) -> str:
        """str: ``'s4'`` or ``'ms3'`` (read by the robust test sets)."""
        return self.SUBSET

    def get_video_ids(self) -> List[str]:
        """Video ids of this split, in CSV order (all videos; ``indices`` does not apply)."""
        return [v['video_id'] for v in self.video_infos]


@DATASETS.register_module()
class AVSBenchS4Dataset(_AVSBenchDataset):
    """AVSBench S4 (single sounding source), read from the official layout.

    CSV ``Single-source/s4_meta_data.csv`` with columns ``name,<any>,category,split`` read by
    header; paths in :class:`mmavs.datasets.layout.S4Layout`. Train yields the annotated first
    frame of each video (``len == #videos``); val/test yield all 5 frames (``len == 5 #videos``).
    See :class:`_AVSBenchDataset` for the arguments.
    """
    DEFAULT_ANN_FILE = S4_CSV
    NAME = 'AVSBench S4'

    SUBSET = 's4'
    LAYOUT = S4Layout
    REQUIRED_COLUMNS = ('name', 'category', 'split')

    def _videos_from_rows(self, rows):
        return [dict(video_id=r['name'], category=r['category'], line=r['_line']) for r in rows]

    def _check_rows(self, rows):
        """A category must be known: its coarse group decides the off-screen donors."""
        return [(r['_line'], f"unknown category '{r['category']}' of video '{r['name']}' "
                 f'(expected an AVSBench S4 or SynthAVS category, mmavs.datasets.categories)')
                for r in rows if r['category'] not in CATEGORY_GROUPS]

    def _frames_of(self, video):
        return [0] if self.split == 'train' else list(range(FRAMES_PER_CLIP))


@DATASETS.register_module()
class AVSBenchMS3Dataset(_AVSBenchDataset):
    """AVSBench MS3 (multiple sounding sources), read from the official layout.

    CSV ``Multi-sources/ms3_meta_data.csv`` with columns ``vid,split`` (the video id is the
    ``vid`` column, or the first column when there is none); paths in
    :class:`mmavs.datasets.layout.MS3Layout`. Every split yields all 5 frames; ``category`` is
    ``'multi'``. See :class:`_AVSBenchDataset` for the arguments.
    """
    DEFAULT_ANN_FILE = MS3_CSV
    NAME = 'AVSBench MS3'
    SUBSET = 'ms3'
    LAYOUT = MS3Layout
    REQUIRED_COLUMNS = ('split', )

    def _videos_from_rows(self, rows):
        videos = []
        for r in rows:
            vid = r['vid'] if 'vid' in r else next(iter(r.values()))
            videos.append(dict(video_id=vid, category=MULTI_SOURCE_CATEGORY, line=r['_line']))
        return videos
