# Copyright (c) mmavs contributors. All rights reserved.
"""PVT-v2 visual backbone (b0-b5) that loads the original ``pvt_v2_b*.pth`` files exactly.

PVT-v2 (Wang et al., "PVT v2: Improved baselines with Pyramid Vision Transformer", CVMJ 2022),
the visual encoder of the AVSBench PVT baselines, has four stages; stage ``i`` is an overlapping
patch embedding (conv 7x7 stride 4 padding 3 for stage 1, 3x3 stride 2 padding 1 after, then a
LayerNorm), ``num_layers[i]`` pre-norm blocks (spatial-reduction attention, whose keys and values
come from a ``sr x sr`` stride-``sr`` conv + LayerNorm; a Mix-FFN ``fc1 -> 3x3 depth-wise conv ->
GELU -> fc2``) and a stage LayerNorm::

    [B, 3, H, W] -> [B, C1, H/4, W/4] -> [B, C2, H/8, W/8]
                 -> [B, C3, H/16, W/16] -> [B, C4, H/32, W/32]

(each size rounded up: ``ceil``), ``C = embed_dims * num_heads`` (``[64, 128, 320, 512]`` for b1-b5,
``[32, 64, 160, 256]`` for b0).

The modules are MMDetection 3.3's ``PyramidVisionTransformerV2`` (``docs/pvt_v2.md`` explains the
choice). :class:`PVTv2` adds three things that class lacks for the published weights:

- the arch table of the original release (``arch='b0'`` ... ``'b5'``, :data:`PVT_V2_ARCHS`);
- the original LayerNorm eps: 1e-6 in the blocks and after each stage, but PyTorch's default 1e-5
  in the patch-embedding and spatial-reduction norms (MMDetection builds all of them from one
  ``norm_cfg``, eps 1e-6);
- strict loading of ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``: the file is read with
  ``torch.load(weights_only=True)``, its keys (original layout, converted by MMDetection's
  ``pvt_convert``, or this module's own layout) must all be matched, ``head.*`` (the ImageNet
  classifier) is ignored, and anything else missing, unexpected or mis-shaped is an error naming
  the file. MMDetection's loader converts too but loads with ``strict=False`` and only logs.
"""
import copy
import os.path as osp
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

from ...utils.checkpoint import CheckpointLoadError, load_checkpoint_file
from ..utils import check_state_dict_fits, unwrap_state_dict

try:
    from mmdet.models.backbones.pvt import PyramidVisionTransformerV2, pvt_convert
except ImportError as _err:  # mmdet is optional for the rest of mmavs
    _MMDET_IMPORT_ERROR: Optional[ImportError] = _err
    PyramidVisionTransformerV2 = nn.Module
    pvt_convert = None
else:
    _MMDET_IMPORT_ERROR = None

#: where the original weights are published
PVT_V2_RELEASE = 'https://github.com/whai362/PVT/releases/tag/v2'
PVT_V2_URL = 'https://github.com/whai362/PVT/releases/download/v2/pvt_v2_{arch}.pth'

_COMMON = dict(num_heads=(1, 2, 5, 8), sr_ratios=(8, 4, 2, 1))
#: the original release's architectures (``embed_dims`` is the per-head width: stage channels are
#: ``embed_dims * num_heads``); ``qkv_bias=True`` and the strides 4, 2, 2, 2 are common to all
PVT_V2_ARCHS: Dict[str, dict] = {
    'b0': dict(embed_dims=32, num_layers=(2, 2, 2, 2), mlp_ratios=(8, 8, 4, 4), **_COMMON),
    'b1': dict(embed_dims=64, num_layers=(2, 2, 2, 2), mlp_ratios=(8, 8, 4, 4), **_COMMON),
    'b2': dict(embed_dims=64, num_layers=(3, 4, 6, 3), mlp_ratios=(8, 8, 4, 4), **_COMMON),
    'b3': dict(embed_dims=64, num_layers=(3, 4, 18, 3), mlp_ratios=(8, 8, 4, 4), **_COMMON),
    'b4': dict(embed_dims=64, num_layers=(3, 8, 27, 3), mlp_ratios=(8, 8, 4, 4), **_COMMON),
    'b5': dict(embed_dims=64, num_layers=(3, 6, 40, 3), mlp_ratios=(4, 4, 4, 4), **_COMMON),
}
_ARCH_KEYS = ('embed_dims', 'num_layers', 'num_heads', 'mlp_ratios', 'sr_ratios')
#: keys of the original file that are not backbone weights
IGNORED_PREFIXES = ('head.', )


def resolve_arch(arch: Union[str, Mapping]) -> dict:
    """The arch settings of ``arch``: a name of :data:`PVT_V2_ARCHS` or a dict of all of
    ``embed_dims``, ``num_layers``, ``num_heads``, ``mlp_ratios``, ``sr_ratios`` (4 stages)."""
    if isinstance(arch, str):
        name = arch.lower().replace('pvt_v2_', '')
        if name not in PVT_V2_ARCHS:
            raise ValueError(f'unknown PVT-v2 arch {arch!r}; expected one of '
                             f'{sorted(PVT_V2_ARCHS)} or a dict with {list(_ARCH_KEYS)}')
        return copy.deepcopy(PVT_V2_ARCHS[name])
    if not isinstance(arch, Mapping) or set(arch) != set(_ARCH_KEYS):
        found = sorted(arch) if isinstance(arch, Mapping) else type(arch).__name__
        raise ValueError(f'a custom PVT-v2 arch needs exactly the keys {list(_ARCH_KEYS)}, '
                         f'found {found}')
    settings = {key: (arch[key] if key == 'embed_dims' else tuple(arch[key])) for key in _ARCH_KEYS}
    if any(len(settings[key]) != 4 for key in _ARCH_KEYS if key != 'embed_dims'):
        raise ValueError(f'a custom PVT-v2 arch has 4 stages: {settings}')
    return settings


def original_state_dict_shapes(arch: Union[str, Mapping],
                               in_channels: int = 3) -> 'OrderedDict[str, Tuple[int, ...]]':
    """Key -> shape of the backbone weights in the original ``pvt_v2_b*.pth`` layout.

    Written from the original architecture, independently of MMDetection's modules: every
    stage ``s`` (1-4) of width ``C`` with ``hidden = mlp_ratio * C`` holds ``patch_embed{s}.proj``
    (conv ``[C, C_in, k, k]``, k = 7 then 3), ``patch_embed{s}.norm``, blocks
    ``block{s}.{j}.{norm1, attn.q [C, C], attn.kv [2C, C], attn.sr [C, C, sr, sr] + attn.norm
    (only if sr > 1), attn.proj [C, C], norm2, mlp.fc1 [hidden, C], mlp.dwconv.dwconv
    [hidden, 1, 3, 3], mlp.fc2 [C, hidden]}`` and the stage norm ``norm{s}``; all with biases.
    """
    settings = resolve_arch(arch)
    shapes: 'OrderedDict[str, Tuple[int, ...]]' = OrderedDict()

    def add(prefix: str, weight: Tuple[int, ...], bias: int) -> None:
        shapes[f'{prefix}.weight'] = tuple(weight)
        shapes[f'{prefix}.bias'] = (bias, )

    c_in = in_channels
    for i in range(4):
        s, c = i + 1, settings['embed_dims'] * settings['num_heads'][i]
        hidden, sr, k = settings['mlp_ratios'][i] * c, settings['sr_ratios'][i], 7 if i == 0 else 3
        add(f'patch_embed{s}.proj', (c, c_in, k, k), c)
        add(f'patch_embed{s}.norm', (c, ), c)
        for j in range(settings['num_layers'][i]):
            b = f'block{s}.{j}'
            add(f'{b}.norm1', (c, ), c)
            add(f'{b}.attn.q', (c, c), c)
            add(f'{b}.attn.kv', (2 * c, c), 2 * c)
            add(f'{b}.attn.proj', (c, c), c)
            if sr > 1:
                add(f'{b}.attn.sr', (c, c, sr, sr), c)
                add(f'{b}.attn.norm', (c, ), c)
            add(f'{b}.norm2', (c, ), c)
            add(f'{b}.mlp.fc1', (hidden, c), hidden)
            add(f'{b}.mlp.dwconv.dwconv', (hidden, 1, 3, 3), hidden)
            add(f'{b}.mlp.fc2', (c, hidden), c)
        add(f'norm{s}', (c, ), c)
        c_in = c
    return shapes


def read_checkpoint(path: str,
                    prefix: Optional[str] = None,
                    arch_name: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Read a state dict from a local file, weights-only (``load_checkpoint_file``).

    A plain state dict (the original release) or a training checkpoint with the weights under
    ``'state_dict'`` / ``'model'``; a DDP ``'module.'`` prefix is removed, then only keys
    starting with ``prefix`` are kept (stripped), e.g. ``'backbone.'``.

    Raises:
        FileNotFoundError: ``path`` does not exist (the message says where to get the weights).
        ValueError: the file is not a weights-only state dict.
    """
    if '://' in str(path):
        raise ValueError(f'PVT-v2 weights are read from a local file; download {path} first and '
                         'set init_cfg.checkpoint to its path')
    if not osp.isfile(path):
        name = f'pvt_v2_{arch_name}.pth' if arch_name else 'the pvt_v2_b*.pth file of your arch'
        url = f' ({PVT_V2_URL.format(arch=arch_name)})' if arch_name else ''
        raise FileNotFoundError(
            f'PVT-v2 checkpoint not found: {path} (resolved to {osp.abspath(path)}). Download '
            f'{name} from the PVT-v2 release {PVT_V2_RELEASE}{url} and put it there, or point '
            "the backbone's init_cfg.checkpoint at it.")
    try:  # weights-only unless the user opted in (mmavs.utils.checkpoint)
        loaded = load_checkpoint_file(path)
    except CheckpointLoadError as err:
        raise ValueError(f'cannot read PVT-v2 weights from {path} (expected a state dict of '
                         f'tensors): {err}') from err
    return unwrap_state_dict(loaded, path, prefix=prefix)


def is_original_layout(state_dict: Mapping) -> bool:
    """False if a key starts with ``layers.`` (MMDetection's layout, which :class:`PVTv2` uses);
    anything else is taken, and checked, as the original layout."""
    return not any(key.startswith('layers.') for key in state_dict)


@MODELS.register_module()
class PVTv2(PyramidVisionTransformerV2):
    """PVT-v2 backbone b0-b5 with the original weights' layout, eps and strict loading.

    Args:
        arch (str | dict): ``'b0'`` ... ``'b5'`` (:data:`PVT_V2_ARCHS`) or a dict with
            ``embed_dims`` (per-head width), ``num_layers``, ``num_heads``, ``mlp_ratios``,
            ``sr_ratios`` (4 stages each). Default ``'b5'``.
        in_channels (int): Input channels. Default 3.
        out_indices (Sequence[int]): Stages (0-3) whose outputs are returned. Default all.
        drop_rate (float): Dropout after attention / FFN. Default 0.
        attn_drop_rate (float): Dropout on attention weights. Default 0.
        drop_path_rate (float): Stochastic depth, linearly up to this rate over all blocks.
            Default 0.1 (as the original models were built for fine-tuning).
        embed_sr_norm_eps (float | None): eps of the patch-embedding and spatial-reduction
            LayerNorms; 1e-5 as in the original (their ``nn.LayerNorm(dim)``), ``None`` keeps
            MMDetection's 1e-6. The block and stage norms use 1e-6 either way.
        init_cfg (dict | None): ``dict(type='Pretrained', checkpoint=PATH[, prefix='backbone.'])``
            loads ``PATH`` strictly (see the module docstring); ``None``: MMDetection's random
            initialisation (truncated normal).

    Forward: ``[B, in_channels, H, W]`` -> list of
    ``[B, C_i, ceil(H / 2^(i+2)), ceil(W / 2^(i+2))]`` for ``i`` in ``out_indices``,
    ``C_i = embed_dims * num_heads[i]`` (:attr:`out_channels`).
    """

    def __init__(self,
                 arch: Union[str, dict] = 'b5',
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 embed_sr_norm_eps: Optional[float] = 1e-5,
                 init_cfg: Optional[dict] = None):
        if _MMDET_IMPORT_ERROR is not None:
            raise ImportError('PVTv2 is built from MMDetection 3.3 modules: install it with '
                              '`pip install --no-deps mmdet==3.3.0` and its dependencies '
                              '(`pip install -e .[pvt]`, see docs/pvt_v2.md)') \
                from _MMDET_IMPORT_ERROR
        settings = resolve_arch(arch)
        super().__init__(
            in_channels=in_channels,
            out_indices=tuple(out_indices),
            qkv_bias=True,
            drop_rate=drop_rate,
            attn_drop_rate=attn_drop_rate,
            drop_path_rate=drop_path_rate,
            norm_cfg=dict(type='LN', eps=1e-6),
            convert_weights=False,  # init_weights below detects the layout itself
            init_cfg=init_cfg,
            **{
                key: (value if key == 'embed_dims' else list(value))
                for key, value in settings.items()
            })
        self.arch_name = arch.lower().replace('pvt_v2_', '') if isinstance(arch, str) else None
        self.arch_settings = settings
        self.in_channels = in_channels
        self.out_channels = [settings['embed_dims'] * h for h in settings['num_heads']]
        if embed_sr_norm_eps is not None:
            for patch_embed, blocks, _ in self.layers:
                patch_embed.norm.eps = embed_sr_norm_eps
                for block in blocks:
                    if block.attn.sr_ratio > 1:
                        block.attn.norm.eps = embed_sr_norm_eps

    def init_weights(self) -> None:
        """Random initialisation (``init_cfg=None``) or strict loading of a ``Pretrained`` file."""
        init_cfg = self.init_cfg
        if isinstance(init_cfg, Mapping) and init_cfg.get('type') == 'Pretrained':
            self.load_pretrained(init_cfg['checkpoint'], prefix=init_cfg.get('prefix'))
        elif isinstance(init_cfg,
                        (list, tuple)) and any(cfg.get('type') == 'Pretrained' for cfg in init_cfg):
            raise ValueError("PVTv2 loads weights strictly only from init_cfg=dict(type="
                             f"'Pretrained', checkpoint=PATH) on its own, got {init_cfg}")
        elif init_cfg is None:
            super().init_weights()  # MMDetection's truncated-normal initialisation
        else:  # another initialiser (e.g. a list of Kaiming / Constant configs)
            BaseModule.init_weights(self)
        self._is_init = True

    def load_pretrained(self, checkpoint: str, prefix: Optional[str] = None) -> None:
        """Load ``checkpoint`` (original or converted layout) with every backbone key matched.

        Raises:
            FileNotFoundError: no such file (the message names the PVT-v2 release).
            ValueError: a key is missing, unexpected (other than ``head.*``) or mis-shaped; the
                message names the file and the keys.
        """
        state_dict = read_checkpoint(checkpoint, prefix=prefix, arch_name=self.arch_name)
        if is_original_layout(state_dict):
            expected = original_state_dict_shapes(self.arch_settings, self.in_channels)
            check_state_dict_fits(
                expected,
                state_dict,
                checkpoint,
                target='PVTv2 (original key layout)',
                ignored_prefixes=IGNORED_PREFIXES)
            state_dict = pvt_convert(
                OrderedDict((k, v) for k, v in state_dict.items() if k in expected))
            layout = 'original, converted'
        else:
            state_dict = OrderedDict(
                (k, v) for k, v in state_dict.items() if not k.startswith(IGNORED_PREFIXES))
            layout = 'MMDetection'
        own = OrderedDict((k, tuple(v.shape)) for k, v in self.state_dict().items())
        check_state_dict_fits(own, state_dict, checkpoint, target=f'PVTv2 ({layout} key layout)')
        self.load_state_dict(state_dict, strict=True)
        print_log(
            f'PVTv2: loaded all {len(own)} backbone tensors from {checkpoint} '
            f'({layout} layout)',
            logger='current')
