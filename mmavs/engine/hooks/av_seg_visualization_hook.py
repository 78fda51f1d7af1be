# Copyright (c) mmavs contributors. All rights reserved.
"""Per-sample overlays of validation / test predictions, one file per audio condition.

MMSeg's ``SegVisualizationHook`` names its pictures after ``img_path``; under AVSBench-Robust the
same frame is tested once per audio condition, so the conditions overwrite each other, and its
``step=runner.iter`` builds the *train* dataloader in a test-only run. This hook keeps MMSeg's
arguments (``draw``, ``interval``, ``show``, ``wait_time``, ``backend_args``: MMSeg's
``tools/test.py --show/--show-dir`` switch it on the same way) and writes

    <out_dir>/<condition>/<video_id>_<frame_idx>.png

(:func:`~mmavs.visualization.render_overlay`: mask fill + contour, the ground-truth outline, a
header with the condition, the similarity probability and the gate decision; ``grid=True``: the
mask and the log-mel the frame heard beside it, :func:`~mmavs.visualization.render_grid`).
``out_dir`` defaults to ``vis_image`` under the save dir of the runner's visualizer (MMSeg's
``--show-dir`` sets it) and else the run's log dir. Test-time file names carry no step; a
validation during training writes ``val_<iter>/<condition>/...``, a validation-only run
``val/<condition>/...``; the train loop is never built by this hook.
"""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine import fileio
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop
from mmseg.registry import HOOKS

from ...visualization.overlays import render_grid, render_overlay


def _array(value) -> Optional[np.ndarray]:
    if value is None:
        return None
    data = getattr(value, 'data', value)
    if hasattr(data, 'detach'):
        data = data.detach().cpu().numpy()
    return np.asarray(data)


def sample_file_name(sample) -> str:
    """``<condition>/<video_id>_<frame_idx>.png`` of a data sample (img name without video)."""
    condition = str(sample.get('condition', 'positive'))
    video_id = sample.get('video_id')
    frame_idx = sample.get('frame_idx')
    if video_id is None:
        stem = osp.splitext(osp.basename(str(sample.get('img_path', 'sample'))))[0]
    else:
        stem = f'{video_id}_{frame_idx if frame_idx is not None else 0}'
    return osp.join(condition, stem + '.png')


def draw_sample(image: np.ndarray,
                sample,
                log_mel: Optional[np.ndarray] = None,
                grid: bool = False) -> np.ndarray:
    """The overlay (or grid) of one predicted ``SegDataSample`` on its RGB frame."""
    pred = _array(sample.get('pred_sem_seg'))
    gt = _array(sample.get('gt_sem_seg'))
    sim = sample.get('pred_similarity')
    info = dict(
        similarity=None if sim is None else float(_array(sim).reshape(-1)[0]),
        gate_thr=sample.get('gate_thr'),
        gated=sample.get('gated'),
        condition=sample.get('condition'),
        is_sounding=sample.get('is_sounding'),
        gt=gt if gt is not None and (gt[gt != 255] != 0).any() else None,
        title=osp.splitext(osp.basename(sample_file_name(sample)))[0])
    if grid:
        return render_grid(image, pred, log_mel, **info)
    return render_overlay(image, pred, **info)


@HOOKS.register_module()
class AVSegVisualizationHook(Hook):
    """Draw validation / test predictions of an AV segmentor, one file per condition.

    Args:
        draw (bool): Draw at all (MMSeg's test tool sets it). Defaults to False.
        interval (int): Draw the samples of every ``interval``-th batch. Defaults to 50.
        show (bool): Also show each picture in a window. Defaults to False.
        wait_time (float): Seconds a shown picture stays. Defaults to 0.
        out_dir (str, optional): Output folder; see the module docstring for the default.
        grid (bool): ``frame | mask | log-mel`` panels instead of the overlay alone.
            Defaults to False.
        backend_args (dict, optional): File backend arguments to read the frames.
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 out_dir: Optional[str] = None,
                 grid: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'AVSegVisualizationHook: expected interval >= 1, found {interval}')
        self.draw = draw
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.out_dir = out_dir
        self.grid = grid
        self.backend_args = dict(backend_args) if backend_args else None
        self.num_written = 0

    def _resolve_out_dir(self, runner) -> str:
        if self.out_dir is not None:
            return self.out_dir
        visualizer = getattr(runner, 'visualizer', None)
        for backend in getattr(visualizer, '_vis_backends', {}).values():
            save_dir = getattr(backend, '_save_dir', None)
            if type(backend).__name__ == 'LocalVisBackend' and save_dir:
                return osp.join(save_dir, 'vis_image')
        return osp.join(runner.log_dir, 'vis_image')

    def _read_frame(self, img_path: str) -> np.ndarray:
        img_bytes = fileio.get(img_path, backend_args=self.backend_args)
        return mmcv.imfrombytes(img_bytes, channel_order='rgb')

    def _draw_batch(self, runner, batch_idx: int, data_batch, outputs: Sequence,
                    out_dir: str) -> None:
        if not self.draw or not outputs or batch_idx % self.interval != 0:
            return
        audio = None
        if isinstance(data_batch, dict) and isinstance(data_batch.get('inputs'), dict):
            inputs = data_batch['inputs']
            audio = inputs.get('audio_clip')
            audio = inputs.get('audio') if audio is None else audio
        for i, sample in enumerate(outputs):
            img_path = sample.get('img_path')
            if img_path is None:
                raise ValueError('AVSegVisualizationHook: a predicted sample has no img_path '
                                 'to draw on')
            log_mel = None
            if self.grid and audio is not None and i < len(audio):
                log_mel = _array(audio[i])
            drawn = draw_sample(self._read_frame(img_path), sample, log_mel, self.grid)
            path = osp.join(out_dir, sample_file_name(sample))
            os.makedirs(osp.dirname(path), exist_ok=True)
            mmcv.imwrite(drawn[..., ::-1], path)
            self.num_written += 1
            if self.show and getattr(runner, 'visualizer', None) is not None:
                runner.visualizer.show(
                    drawn, win_name=sample_file_name(sample), wait_time=self.wait_time)

    def before_test(self, runner) -> None:
        self.num_written = 0

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        """Draw a test batch (no use of ``runner.iter``: a test run has no train loop)."""
        if self.draw:
            self._draw_batch(runner, batch_idx, data_batch, outputs, self._resolve_out_dir(runner))

    def after_test(self, runner) -> None:
        if self.draw:
            print_log(
                f'AVSegVisualizationHook: wrote {self.num_written} pictures to '
                f'{self._resolve_out_dir(runner)}',
                logger='current')

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        """Draw a validation batch into ``val_<iter>/`` (a validation within training)."""
        if self.draw:
            # runner.iter would build the train loop of a validation-only run
            loop = getattr(runner, '_train_loop', None)
            step = f'val_{getattr(loop, "iter", 0)}' if isinstance(loop, BaseLoop) else 'val'
            out_dir = osp.join(self._resolve_out_dir(runner), step)
            self._draw_batch(runner, batch_idx, data_batch, outputs, out_dir)
