# Copyright (c) mmavs contributors. All rights reserved.
"""FLOPs and parameters of an audio-visual segmentor, with MMSeg's ``get_flops.py`` flags.

Examples::

    python tools/analysis_tools/get_flops.py \
        configs/tpavi/tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112.py \
        --shape 112 112
    python tools/analysis_tools/get_flops.py CONFIG --shape 224 --show-table

MMSeg's own tool hands an image tensor to the data preprocessor; an AV segmentor needs
``dict(img, audio)``. This one builds random inputs of the ``--shape`` (padded as the data
preprocessor pads at test time: by its ``test_cfg``) with a log-mel example (and, for
clip-level models, the clip's five) and counts one inference pass of every module: visual
backbone, audio backbone, fusion, decode head (plus the resize to the input size) and
similarity head (:func:`mmavs.utils.complexity.av_model_complexity`). One multiply-add is one
FLOP, as in mmengine and MMSeg.
"""
import argparse
import sys

from mmengine.config import Config, DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.utils.complexity import av_model_complexity


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='FLOPs of an audio-visual segmentor')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--shape', type=int, nargs='+', default=[224, 224], help='input frame size: H [W]')
    parser.add_argument('--batch-size', type=int, default=1, help='frames per pass (default 1)')
    parser.add_argument(
        '--show-table', action='store_true', help='print the per-module table (depth 3)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2):
        parser.error(f'--shape takes H or H W, found {args.shape}')
    if min(args.shape) < 1 or args.batch_size < 1:
        parser.error('--shape and --batch-size must be positive')
    return args


def _size(value: float) -> str:
    for unit, scale in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if value >= scale:
            return f'{value / scale:.3f}{unit}'
    return str(int(value))


def main(argv=None) -> dict:
    args = parse_args(argv)
    try:
        cfg = Config.fromfile(args.config)
    except FileNotFoundError as exc:
        print(f'error: config file not found: {args.config}', file=sys.stderr)
        raise SystemExit(2) from exc
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.pretrained = None
    cfg.model.train_cfg = None
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'extract_audio'):
        print(
            f'error: the model of {args.config} ({type(model).__name__}) is not an mmavs '
            'AV segmentor; use MMSeg\'s get_flops.py for image-only models',
            file=sys.stderr)
        raise SystemExit(2)
    if getattr(model, 'auxiliary_head', None) is not None:
        model.auxiliary_head = None  # training only, as in MMSeg's tool
    model = revert_sync_batchnorm(model)
    shape = args.shape * 2 if len(args.shape) == 1 else args.shape
    result = av_model_complexity(model, shape, args.batch_size)
    line = '=' * 40
    if args.show_table:
        print(result['table'])
    padded = tuple(result['input_shape'])
    if padded != tuple(shape):
        print(f'{line}\ninput shape {tuple(shape)} padded to {padded} (data_preprocessor.test_cfg)')
    audio = 'audio [96, 64] + clip [5, 96, 64]' if model.needs_audio_clip else 'audio [96, 64]'
    print(f'{line}\nInput: img {padded}, {audio}, batch {args.batch_size}\n'
          f'Flops: {_size(result["flops"])} ({result["flops"]} multiply-adds)\n'
          f'Params: {_size(result["params"])} ({result["params"]})\n{line}')
    if result['folded']:
        print('counted in their parent\'s row (weights applied inside the parent\'s call): ' +
              ', '.join(result['folded']))
    if result['uncalled']:
        print('modules with weights never used in inference: ' + ', '.join(result['uncalled']))
    if result['unsupported']:
        ops = ', '.join(f'{k} x{v}' for k, v in sorted(result['unsupported'].items()))
        print(f'operators without a FLOP count (elementwise, pooling, ...): {ops}')
    return result


if __name__ == '__main__':
    main()
