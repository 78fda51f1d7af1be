# Copyright (c) mmavs contributors. All rights reserved.
"""Convert an AVSegFormer or AVSegFormer-robust checkpoint into an mmavs checkpoint.

Usage::

    python tools/model_converters/avsegformer2mmavs.py SRC DST [--unsafe-load]

``SRC`` is a checkpoint as the authors' ``train.py`` saves it (AVSegFormer, vvvb-github/AVSegFormer,
and AVSegFormer-robust, jiali-home/AVSBench-Robust): the model's flat ``state_dict()``; a
``module.`` prefix (DataParallel) and a ``state_dict`` / ``model`` wrapper are accepted. Both
visual backbones are recognised: PVT-v2 (original layout, converted to mmavs's ``PVTv2``) and
the ResNet-50 ``B2_ResNet`` (its unused ``layer3_2`` / ``layer4_2`` copies dropped). ``DST`` is
an mmavs checkpoint that the matching ``configs/avsegformer/`` config loads with
``strict=True``:

============================  ===========================================
authors' key                  mmavs key
============================  ===========================================
``backbone.*``                ``backbone.*`` (PVT-v2: ``pvt_convert``)
``vggish.*``                  ``audio_backbone.*``
``audio_proj.*``              ``audio_neck.proj.*``
``head.*``                    ``decode_head.*``
``head.fpn.*``, ``head.attn_fc.*``  dropped (never used by the forward)
``cosine_sim.audio_proj.*``   ``similarity_head.audio_proj.*`` (robust)
============================  ===========================================

Any other key is an error that lists it. The file is read weights-only (``--unsafe-load`` for a
trusted file that needs more, see ``mmavs.utils.checkpoint``).
"""
import argparse
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, Mapping, Tuple

import torch

import mmavs  # noqa: F401  (environment fixes + registration)
from mmavs.utils.checkpoint import (add_unsafe_load_argument, apply_unsafe_load_argument,
                                    load_checkpoint_file)

#: Renamed prefixes, in matching order (longest first); None drops the keys.
PREFIXES = (
    ('head.fpn.', None),
    ('head.attn_fc.', None),
    ('cosine_sim.audio_proj.', 'similarity_head.audio_proj.'),
    ('audio_proj.', 'audio_neck.proj.'),
    ('vggish.', 'audio_backbone.'),
    ('head.', 'decode_head.'),
)
#: ResNet-50 ``B2_ResNet`` layers -> MMSeg ``ResNet`` layers (None: an unused copy, dropped).
RESNET_LAYERS = {'layer3_1': 'layer3', 'layer4_1': 'layer4', 'layer3_2': None, 'layer4_2': None}


def unwrap(checkpoint) -> 'OrderedDict[str, torch.Tensor]':
    """The flat state dict of a checkpoint: ``state_dict`` / ``model`` unwrapped, ``module.``
    removed."""
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f'expected a state dict, found {type(checkpoint).__name__}')
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v) for k, v in checkpoint.items())


def convert_backbone(weights: Mapping[str, torch.Tensor]) -> Tuple[Dict, str]:
    """``backbone.*`` of the authors' model (prefix removed) -> mmavs backbone keys, and the
    backbone's name (``'pvt_v2'`` or ``'resnet50'``)."""
    if 'patch_embed1.proj.weight' in weights:
        from mmdet.models.backbones.pvt import pvt_convert
        return dict(pvt_convert(OrderedDict(weights))), 'pvt_v2'
    if 'layer3_1.0.conv1.weight' in weights:
        out = {}
        for key, value in weights.items():
            layer = key.split('.', 1)[0]
            if layer in RESNET_LAYERS:
                if RESNET_LAYERS[layer] is None:
                    continue
                key = RESNET_LAYERS[layer] + key[len(layer):]
            out[key] = value
        return out, 'resnet50'
    raise ValueError('the backbone is neither PVT-v2 (backbone.patch_embed1.*) nor the ResNet-50 '
                     'B2_ResNet (backbone.layer3_1.*): found keys such as '
                     f'{sorted(weights)[:3]}')


def convert(
        state_dict: Mapping[str, torch.Tensor]) -> Tuple['OrderedDict[str, torch.Tensor]', dict]:
    """The mmavs state dict of an AVSegFormer(-robust) state dict, and what was converted.

    Returns:
        tuple: ``(state_dict, info)`` with ``info`` = ``backbone``, ``robust`` (whether the
        similarity head was present), ``dropped`` (number of unused tensors).
    """
    state_dict = unwrap(state_dict)
    backbone = {k[len('backbone.'):]: v for k, v in state_dict.items() if k.startswith('backbone.')}
    if not backbone:
        raise ValueError('no backbone.* keys: not an AVSegFormer checkpoint')
    converted, backbone_name = convert_backbone(backbone)
    out = OrderedDict(('backbone.' + k, v) for k, v in converted.items())
    unknown, dropped = [], 0
    for key, value in state_dict.items():
        if key.startswith('backbone.'):
            continue
        for old, new in PREFIXES:
            if key.startswith(old):
                if new is None:
                    dropped += 1
                else:
                    out[new + key[len(old):]] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f'{len(unknown)} keys of no known AVSegFormer part: {unknown[:10]}')
    info = dict(
        backbone=backbone_name,
        robust=any(k.startswith('similarity_head.') for k in out),
        dropped=dropped)
    return out, info


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an AVSegFormer(-robust) checkpoint into an mmavs checkpoint')
    parser.add_argument('src', help="the authors' checkpoint (.pth)")
    parser.add_argument('dst', help='the mmavs checkpoint to write')
    add_unsafe_load_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    state_dict, info = convert(load_checkpoint_file(args.src))
    os.makedirs(osp.dirname(osp.abspath(args.dst)) or '.', exist_ok=True)
    meta = dict(converted_from=osp.basename(args.src), converter='avsegformer2mmavs', **info)
    torch.save(dict(state_dict=state_dict, meta=meta), args.dst)
    print(f'{args.src}: {len(state_dict)} tensors ({info["backbone"]} backbone, '
          f'{"with" if info["robust"] else "without"} the similarity head, {info["dropped"]} '
          f'unused dropped) -> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
