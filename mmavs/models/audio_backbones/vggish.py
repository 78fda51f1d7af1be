# Copyright (c) mmavs contributors. All rights reserved.
"""VGGish audio backbone, weight-compatible with torchvggish.

Architecture (Hershey et al., "CNN architectures for large-scale audio classification", 2017, as
released with AudioSet and ported by torchvggish): a VGG conv stack on one ``[96, 64]`` log-mel
example (0.96 s x 64 mel bands; see :func:`mmavs.audio.waveform_to_examples`)::

    conv3x3(64) ReLU  max2 | conv3x3(128) ReLU max2 |
    conv3x3(256) ReLU conv3x3(256) ReLU max2 | conv3x3(512) ReLU conv3x3(512) ReLU max2
    -> [512, 6, 4], flattened in (H, W, C) order (the TensorFlow layout the weights come from)
    -> FC 4096 ReLU -> FC 4096 ReLU -> FC 128 ReLU

Module names follow torchvggish, so its published ``vggish-10086976.pth`` (a plain state dict
with keys ``features.{0,3,6,8,11,13}.*`` and ``embeddings.{0,2,4}.*``) loads as it is with
``init_cfg=dict(type='Pretrained', checkpoint=PATH)``.

Optional post-processing (``postprocess=True``) applies the released PCA (with whitening) from
``vggish_pca_params-970ea276.pth`` (``pca_eigen_vectors [128, 128]``, ``pca_means [128]``), clips
to [-2, 2] and quantises to 8 bits, giving the embeddings AudioSet was released with.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule, initialize
from mmengine.runner.checkpoint import load_state_dict
from mmseg.registry import MODELS
from torch import nn

from ...utils.checkpoint import load_checkpoint_file
from ..utils import check_state_dict_fits, read_state_dict

#: conv widths, ``'M'`` = 2x2 max-pool, as in the VGGish release
VGGISH_LAYERS = (64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M')
EMBEDDING_DIM = 128
INPUT_SHAPE = (96, 64)  # (frames, mel bands)
QUANTIZE_MIN = -2.0
QUANTIZE_MAX = 2.0


def make_vggish_features(layers: Sequence = VGGISH_LAYERS) -> nn.Sequential:
    """The VGGish conv stack ``[N, 1, 96, 64] -> [N, 512, 6, 4]`` (torchvggish indices)."""
    modules = []
    in_channels = 1
    for layer in layers:
        if layer == 'M':
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            modules += [nn.Conv2d(in_channels, layer, kernel_size=3, padding=1), nn.ReLU(True)]
            in_channels = layer
    return nn.Sequential(*modules)


def make_vggish_embeddings() -> nn.Sequential:
    """The VGGish FC head ``[N, 512 * 6 * 4] -> [N, 128]`` (ReLU after every layer)."""
    return nn.Sequential(
        nn.Linear(512 * 6 * 4, 4096), nn.ReLU(True), nn.Linear(4096, 4096), nn.ReLU(True),
        nn.Linear(4096, EMBEDDING_DIM), nn.ReLU(True))


def load_vggish_pca_params(path: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """Read ``vggish_pca_params-970ea276.pth``.

    Args:
        path (str): File holding a dict with ``pca_eigen_vectors`` ``[128, 128]`` and
            ``pca_means`` ``[128]`` (or ``[128, 1]``), as tensors or numpy arrays.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: float32 eigenvectors ``[128, 128]`` (rows are the
        output dimensions) and means ``[128]``.
    """
    try:
        # weights-only, with numpy arrays allowed (the published file holds them)
        params = load_checkpoint_file(path)
    except (OSError, RuntimeError, ValueError) as err:
        raise ValueError(f'cannot read VGGish PCA parameters from {path}: {err}') from err
    if not isinstance(params, dict) or not {'pca_eigen_vectors', 'pca_means'} <= set(params):
        found = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"expected a dict with 'pca_eigen_vectors' and 'pca_means' in {path}, "
                         f'found {found}')
    vectors = torch.as_tensor(params['pca_eigen_vectors'], dtype=torch.float32)
    means = torch.as_tensor(params['pca_means'], dtype=torch.float32).reshape(-1)
    if tuple(vectors.shape) != (EMBEDDING_DIM, EMBEDDING_DIM) or means.numel() != EMBEDDING_DIM:
        raise ValueError(f'expected pca_eigen_vectors [128, 128] and pca_means [128] in {path}, '
                         f'found {list(vectors.shape)} and {list(means.shape)}')
    return vectors, means


def vggish_postprocess(embeddings: torch.Tensor, pca_eigen_vectors: torch.Tensor,
                       pca_means: torch.Tensor) -> torch.Tensor:
    """The AudioSet release post-processing: PCA (+whitening), clip, 8-bit quantisation.

    ``q = round((clip(V (e - m), -2, 2) + 2) * 255 / 4)``.

    Args:
        embeddings (torch.Tensor): ``[N, 128]`` raw VGGish embeddings.
        pca_eigen_vectors (torch.Tensor): ``V``, ``[128, 128]``.
        pca_means (torch.Tensor): ``m``, ``[128]``.

    Returns:
        torch.Tensor: ``[N, 128]`` float32 holding integers in [0, 255] (same dtype as
        torchvggish; cast with ``.to(torch.uint8)`` for the released byte format).
    """
    projected = (embeddings - pca_means) @ pca_eigen_vectors.t()
    clipped = projected.clamp(QUANTIZE_MIN, QUANTIZE_MAX)
    return torch.round((clipped - QUANTIZE_MIN) * (255.0 / (QUANTIZE_MAX - QUANTIZE_MIN)))


def as_example_batch(x: torch.Tensor, owner: str) -> torch.Tensor:
    """``[N, 96, 64]`` or ``[N, 1, 96, 64]`` -> ``[N, 1, 96, 64]``; clear error otherwise."""
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4 or x.shape[1] != 1 or tuple(x.shape[2:]) != INPUT_SHAPE:
        raise ValueError(f'{owner} expects log-mel examples [N, 96, 64] or [N, 1, 96, 64], '
                         f'found {list(x.shape)}')
    return x


def _split_init_cfg(init_cfg) -> Tuple[list, list]:
    cfgs = [] if init_cfg is None else (
        [init_cfg] if isinstance(init_cfg, dict) else list(init_cfg))
    pretrained = [cfg for cfg in cfgs if cfg.get('type') == 'Pretrained']
    others = [cfg for cfg in cfgs if cfg.get('type') != 'Pretrained']
    return pretrained, others


@MODELS.register_module()
class VGGish(BaseModule):
    """VGGish audio backbone: ``[N, 1, 96, 64]`` log-mel examples -> ``[N, 128]`` embeddings.

    Args:
        postprocess (bool): Apply the released PCA + clip + 8-bit quantisation (needs
            ``pca_params``). The output is then float32 integers in [0, 255] instead of the
            non-negative raw embedding. Default False (AVS models use the raw embedding).
        pca_params (str | None): Path to ``vggish_pca_params-970ea276.pth``. Required when
            ``postprocess=True``.
        frozen (bool): Keep the network in eval mode (also after ``.train()``), with
            ``requires_grad=False`` parameters and the forward pass under ``torch.no_grad()``.
            Default True, as in every AVS baseline.
        init_cfg (dict | list[dict] | None): ``dict(type='Pretrained', checkpoint=PATH)`` loads a
            torchvggish state dict (``vggish-10086976.pth``) strictly: keys or shapes that do not
            fit raise a ``ValueError`` naming the file (MMEngine's own ``Pretrained`` would only
            log them). ``prefix`` and ``map_location`` are honoured as in MMEngine.

    Attributes:
        out_channels (int): 128, the embedding size.
    """

    out_channels = EMBEDDING_DIM

    def __init__(self,
                 postprocess: bool = False,
                 pca_params: Optional[str] = None,
                 frozen: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if postprocess and pca_params is None:
            raise ValueError('VGGish(postprocess=True) needs pca_params, the path to '
                             'vggish_pca_params-970ea276.pth')
        pca = load_vggish_pca_params(pca_params) if postprocess else None
        self.features = make_vggish_features()
        self.embeddings = make_vggish_embeddings()
        self.postprocess = postprocess
        self.frozen = frozen
        if pca is not None:
            vectors, means = pca
            # not persistent: the state dict stays exactly torchvggish's vggish file
            self.register_buffer('pca_eigen_vectors', vectors, persistent=False)
            self.register_buffer('pca_means', means, persistent=False)
        if frozen:
            self._freeze()

    def _freeze(self) -> None:
        for param in self.parameters():
            param.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> 'VGGish':
        """Set train mode; a frozen VGGish stays in eval mode."""
        super().train(False if self.frozen else mode)
        return self

    def init_weights(self) -> None:
        """Apply ``init_cfg``; a ``Pretrained`` entry is checked and loaded strictly."""
        pretrained, others = _split_init_cfg(self.init_cfg)
        if not pretrained:
            super().init_weights()
            return
        if others:
            initialize(self, others)
        for cfg in pretrained:
            checkpoint = cfg['checkpoint']
            state_dict = read_state_dict(
                checkpoint, prefix=cfg.get('prefix'), map_location=cfg.get('map_location', 'cpu'))
            check_state_dict_fits(self, state_dict, checkpoint)
            load_state_dict(self, state_dict, strict=True, logger='current')
            print_log(f'VGGish: loaded {checkpoint}', logger='current')
        self._is_init = True
        if self.frozen:
            self._freeze()

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Raw embeddings ``[N, 128]`` (after the last ReLU) of ``[N, 1, 96, 64]`` examples."""
        features = self.features(x)  # [N, 512, 6, 4]
        # flatten in (H, W, C) order, the layout of the TensorFlow weights
        flat = features.permute(0, 2, 3, 1).reshape(features.shape[0], -1)
        return self.embeddings(flat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed log-mel examples.

        Args:
            x (torch.Tensor): ``[N, 96, 64]`` or ``[N, 1, 96, 64]`` log-mel examples.

        Returns:
            torch.Tensor: ``[N, 128]`` float32; raw (ReLU, >= 0) embeddings, or integers in
            [0, 255] with ``postprocess=True``.
        """
        x = as_example_batch(x, 'VGGish')
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            out = self.embed(x)
            if self.postprocess:
                out = vggish_postprocess(out, self.pca_eigen_vectors, self.pca_means)
        return out
