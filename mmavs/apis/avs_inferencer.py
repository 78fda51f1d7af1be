# Copyright (c) mmavs contributors. All rights reserved.
"""``AVSInferencer``: MMSeg's ``MMSegInferencer`` call shape for audio-visual segmentation.

.. code:: python

    from mmavs.apis import AVSInferencer
    inferencer = AVSInferencer('tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112',
                               weights='epoch_60.pth')     # a model name or a config file
    result = inferencer('frames/', audio='clip.wav', out_dir='out')
    result['predictions']       # list of uint8 [H, W] masks (1 = sounding, gated if gating)
    result['similarity']        # list of float, the audio-visual similarity probability
    result['visualization']     # list of RGB uint8 overlays (render_overlay / render_grid)

``MMSegInferencer`` itself cannot run an mmavs model: its pipeline has no audio (the model needs
``inputs=dict(img, audio)``), it reads ``cfg.test_pipeline`` (mmavs configs keep the pipeline in
the robust dataset wrapper) and its visualiser draws class palettes, not a similarity decision.
This class keeps its arguments and returns, and runs :func:`~mmavs.apis.inference_model`.
A model name is looked up in ``model-index.yml`` (the repository's in a source checkout, else
the installed ``mmavs/.mim`` copy); nothing is downloaded: ``weights`` is a local file (or None
for a random initialisation).
"""
import os
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.config import Config

from ..utils.image import read_frame
from ..utils.video import list_frame_files
from ..visualization.overlays import render_grid, render_overlay
from .inference import inference_model, init_model

InputsLike = Union[str, Path, np.ndarray, Sequence[Union[str, Path, np.ndarray]]]


def _index_roots() -> List[Path]:
    """Folders that may hold ``model-index.yml``: the repository root of a source checkout, then
    ``mmavs/.mim`` of an installed package (a checkout's ``.mim`` may hold a stale copy from a
    wheel build)."""
    package = Path(__file__).resolve().parents[1]
    return [package.parent, package / '.mim']


def list_models() -> Dict[str, str]:
    """Model names of ``model-index.yml`` and their config files (absolute paths)."""
    import yaml
    for root in _index_roots():
        index = root / 'model-index.yml'
        if not index.is_file():
            continue
        models = {}
        for rel in (yaml.safe_load(index.read_text()) or {}).get('Import', []):
            meta_path = root / rel
            if not meta_path.is_file():
                raise FileNotFoundError(f'{index} imports {rel}, which does not exist')
            for model in (yaml.safe_load(meta_path.read_text()) or {}).get('Models', []):
                models[model['Name']] = str(root / model['Config'])
        return models
    raise FileNotFoundError('no model-index.yml in ' + ' or '.join(str(r) for r in _index_roots()))


def resolve_config(model: Union[str, Path, Config]) -> Union[str, Config]:
    """A config file, a Config, or a model name of ``model-index.yml`` -> config path/Config."""
    if isinstance(model, Config):
        return model
    model = str(model)
    if osp.isfile(model):
        return model
    if model.endswith('.py'):
        raise FileNotFoundError(f'config file not found: {model}')
    models = list_models()
    if model not in models:
        close = sorted(n for n in models if model.split('_')[0] in n)[:5]
        raise ValueError(f'{model!r} is neither a config file nor a model name of '
                         f'model-index.yml; similar names: {close or sorted(models)[:5]}')
    return models[model]


class AVSInferencer:
    """Segment the sounding objects of frames given their audio (``MMSegInferencer`` style).

    Args:
        model (str | Path | Config): Config file, Config, or a model name of
            ``model-index.yml`` (:func:`list_models`).
        weights (str, optional): Local checkpoint file; None keeps the random initialisation.
        device (str): ``'cpu'``, ``'cuda'``... Defaults to ``'cpu'``.
        gate_thr (float, optional): Gate threshold (default: checkpoint meta, then config).
        cfg_options (dict, optional): Config overrides.
    """

    def __init__(self,
                 model: Union[str, Path, Config],
                 weights: Optional[str] = None,
                 device: str = 'cpu',
                 gate_thr: Optional[float] = None,
                 cfg_options: Optional[dict] = None) -> None:
        if isinstance(weights, str) and '://' in weights:
            raise ValueError(f'weights must be a local file (nothing is downloaded), found '
                             f'{weights}')
        self.model = init_model(resolve_config(model), weights, device, gate_thr, cfg_options)
        self.cfg = self.model.cfg

    @property
    def gate_thr(self) -> Optional[float]:
        """float | None: The model's gate threshold."""
        return self.model.gate_thr

    @staticmethod
    def _frames(inputs: InputsLike):
        """``(frames, names)``: BGR uint8 ``[H, W, 3]`` arrays and output names."""
        if isinstance(inputs, (str, Path)) and osp.isdir(str(inputs)):
            paths = list_frame_files(str(inputs))
            return [read_frame(p) for p in paths], [Path(p).stem for p in paths]
        if isinstance(inputs, (str, Path, np.ndarray)):
            inputs = [inputs]
        frames, names = [], []
        for i, item in enumerate(inputs):
            if isinstance(item, (str, Path)):
                frames.append(read_frame(str(item)))
                names.append(Path(item).stem)
            else:
                frames.append(np.asarray(item))
                names.append(f'frame_{i:05d}')
        if not frames:
            raise ValueError('expected at least one frame, found none')
        return frames, names

    def visualize(self,
                  frame: np.ndarray,
                  sample,
                  grid: bool = False,
                  title: Optional[str] = None,
                  audio_label: str = 'input audio') -> np.ndarray:
        """The RGB overlay (or ``frame | mask | log-mel`` grid) of one result.

        Args:
            frame (np.ndarray): The BGR frame ``[H, W, 3]`` the result belongs to.
            sample (SegDataSample): Its result.
            grid (bool): ``frame | mask | log-mel`` panels (needs ``audio_log_mel``).
            title (str, optional): First header line.
            audio_label (str): What the frame heard, shown as its audio condition.

        Returns:
            np.ndarray: RGB uint8 picture.
        """
        sim = sample.get('pred_similarity')
        info = dict(
            similarity=None if sim is None else float(sim),
            gate_thr=self.gate_thr,
            gated=sample.metainfo.get('gated'),
            condition=audio_label,
            title=title)
        mask = sample.pred_sem_seg.data[0].numpy()
        if grid:
            return render_grid(frame[..., ::-1], mask, sample.get('audio_log_mel'), **info)
        return render_overlay(frame[..., ::-1], mask, **info)

    def __call__(self,
                 inputs: InputsLike,
                 audio=None,
                 sample_rate: Optional[int] = None,
                 frame_times: Optional[Sequence[float]] = None,
                 batch_size: int = 8,
                 frame_names: Optional[Sequence[str]] = None,
                 show: bool = False,
                 wait_time: float = 0,
                 out_dir: str = '',
                 img_out_dir: str = 'vis',
                 pred_out_dir: str = 'pred',
                 grid: bool = False,
                 audio_label: str = 'input audio',
                 return_vis: Optional[bool] = None,
                 return_datasamples: bool = False) -> dict:
        """Segment ``inputs`` hearing ``audio``.

        Args:
            inputs: An image path, a BGR ``[H, W, 3]`` array, a folder of frames (natural name
                order) or a sequence of paths / arrays.
            audio: Sound file, waveform (with ``sample_rate``) or None (silence).
            sample_rate (int, optional): Sample rate of a waveform (Hz).
            frame_times (sequence of float, optional): Frame times (s); default ``0, 1, 2...``.
            batch_size (int): Frames per forward pass. Defaults to 8.
            frame_names (sequence of str, optional): Names of the frames in error messages
                (default: the path of a frame given as a path, else ``frame <i>``).
            show (bool): Show each overlay in a window (OpenCV). Defaults to False.
            wait_time (float): Seconds each shown overlay stays. Defaults to 0.
            out_dir (str): When set, write ``<out_dir>/<img_out_dir>/<name>.png`` (overlays) and
                ``<out_dir>/<pred_out_dir>/<name>.png`` (masks, 0/255). Defaults to ``''``.
            img_out_dir (str): Overlay sub-folder. Defaults to ``'vis'``.
            pred_out_dir (str): Mask sub-folder. Defaults to ``'pred'``.
            grid (bool): Draw ``frame | mask | log-mel`` panels. Defaults to False.
            audio_label (str): What the frames hear, for the overlays' headers.
            return_vis (bool, optional): Return the overlays; default: when drawn (``show`` or
                ``out_dir``).
            return_datasamples (bool): ``predictions`` as ``SegDataSample`` instead of masks.

        Returns:
            dict: ``predictions`` (list of uint8 ``[H, W]`` masks, or SegDataSamples),
            ``similarity`` (list of float, NaN without a similarity head), ``visualization``
            (list of RGB uint8 arrays, empty unless drawn or ``return_vis``), ``names``.
        """
        frames, names = self._frames(inputs)
        results = inference_model(
            self.model,
            frames,
            audio,
            sample_rate=sample_rate,
            frame_times=frame_times,
            batch_size=batch_size,
            frame_names=frame_names,
            keep_log_mel=grid)
        masks = [r.pred_sem_seg.data[0].numpy().astype(np.uint8) for r in results]
        sims = [
            float('nan') if r.get('pred_similarity') is None else float(r.pred_similarity)
            for r in results
        ]
        draw = show or bool(out_dir) or bool(return_vis)
        vis = [
            self.visualize(f, r, grid, n, audio_label) for f, r, n in zip(frames, results, names)
        ] if draw else []
        if out_dir:
            self._write(out_dir, img_out_dir, pred_out_dir, names, masks, vis)
        if show:
            import cv2
            for name, image in zip(names, vis):
                cv2.imshow(name, image[..., ::-1])
                cv2.waitKey(max(int(wait_time * 1000), 1))
        return dict(
            predictions=results if return_datasamples else masks,
            similarity=sims,
            visualization=vis if return_vis is not False else [],
            names=names)

    @staticmethod
    def _write(out_dir, img_out_dir, pred_out_dir, names, masks, vis) -> None:
        from PIL import Image
        vis_dir, pred_dir = osp.join(out_dir, img_out_dir), osp.join(out_dir, pred_out_dir)
        os.makedirs(vis_dir, exist_ok=True)
        os.makedirs(pred_dir, exist_ok=True)
        for name, mask, image in zip(names, masks, vis):
            Image.fromarray(mask * 255).save(osp.join(pred_dir, f'{name}.png'))
            Image.fromarray(image).save(osp.join(vis_dir, f'{name}.png'))
