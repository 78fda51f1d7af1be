# Copyright (c) mmavs contributors. All rights reserved.
"""Check a folder of pretrained weights by key layout and shapes before a long training starts.

Usage::

    python tools/misc/check_checkpoints.py pretrained/ [--pvt-arch b5] [--unsafe-load]

Each file the AVSBench configs read is opened weights-only and compared with the module that
will load it; a missing file names where the file is published (nothing is downloaded):

==================================  =========================================================
``pvt_v2_b5.pth``                   PVT-v2 (original layout; ``head.*`` ignored) for ``PVTv2``
``vggish-10086976.pth``             torchvggish VGGish for ``VGGish``
``vggish_pca_params-970ea276.pth``  torchvggish PCA parameters (optional: post-processing)
``resnet50-19c8e357.pth``           torchvision ResNet-50 (optional: the ResNet-50 configs)
==================================  =========================================================

Prints one line per file (``ok`` or what does not fit) and exits 1 when a required file is
missing or any file does not fit.
"""
import argparse
import os.path as osp
import sys
from typing import Callable, List, Optional, Tuple

import mmavs  # noqa: F401  (environment fixes + registration)
from mmavs.models.utils import state_dict_mismatches, unwrap_state_dict
from mmavs.utils.checkpoint import (add_unsafe_load_argument, apply_unsafe_load_argument,
                                    load_checkpoint_file)

PVT_FILE = 'pvt_v2_{arch}.pth'
VGGISH_FILE = 'vggish-10086976.pth'
PCA_FILE = 'vggish_pca_params-970ea276.pth'
RESNET_FILE = 'resnet50-19c8e357.pth'
TORCHVGGISH = 'https://github.com/harritaylor/torchvggish/releases/tag/v0.1'
TORCHVISION = 'https://download.pytorch.org/models/resnet50-19c8e357.pth'


def _state_dict(path: str) -> dict:
    return unwrap_state_dict(load_checkpoint_file(path), path)


def _mismatch_text(problems: dict) -> Optional[str]:
    parts = [
        f'{name}: {", ".join(items[:5])}' + (' ...' if len(items) > 5 else '')
        for name, items in problems.items() if items
    ]
    return '; '.join(parts) or None


def check_pvt(path: str, arch: str) -> Optional[str]:
    """None when ``path`` holds every PVT-v2 ``arch`` backbone tensor with its shape."""
    from mmavs.models.backbones.pvt_v2 import IGNORED_PREFIXES, original_state_dict_shapes
    return _mismatch_text(
        state_dict_mismatches(
            original_state_dict_shapes(arch), _state_dict(path), ignored_prefixes=IGNORED_PREFIXES))


def check_vggish(path: str) -> Optional[str]:
    """None when ``path`` fits mmavs's ``VGGish`` exactly (torchvggish layout)."""
    from mmavs.models import VGGish
    return _mismatch_text(state_dict_mismatches(VGGish(frozen=False), _state_dict(path)))


def check_pca(path: str) -> Optional[str]:
    """None when ``path`` holds the ``[128, 128]`` eigenvectors and ``[128]`` means."""
    from mmavs.models.audio_backbones.vggish import load_vggish_pca_params
    try:
        load_vggish_pca_params(path)
    except ValueError as err:
        return str(err)
    return None


def check_resnet50(path: str) -> Optional[str]:
    """None when ``path`` holds every tensor of MMSeg's ResNet-50 (``fc.*`` ignored)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(dict(type='ResNet', depth=50, style='pytorch'))
    return _mismatch_text(
        state_dict_mismatches(model, _state_dict(path), ignored_prefixes=('fc.', )))


def checks(folder: str, arch: str) -> List[Tuple[str, bool, Callable[[str], Optional[str]], str]]:
    """``(file, required, check, where to get it)`` of each weight file."""
    pvt = PVT_FILE.format(arch=arch)
    return [
        (pvt, True, lambda p: check_pvt(p, arch),
         f'https://github.com/whai362/PVT/releases/download/v2/{pvt}'),
        (VGGISH_FILE, True, check_vggish, TORCHVGGISH),
        (PCA_FILE, False, check_pca, TORCHVGGISH),
        (RESNET_FILE, False, check_resnet50, TORCHVISION),
    ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Check a folder of pretrained weights')
    parser.add_argument('folder', help='the folder the configs read (default pretrained/)')
    parser.add_argument('--pvt-arch', default='b5', help='PVT-v2 arch of the configs (b0-b5)')
    add_unsafe_load_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    apply_unsafe_load_argument(args)
    failed = False
    for name, required, check, source in checks(args.folder, args.pvt_arch):
        path = osp.join(args.folder, name)
        if not osp.isfile(path):
            status = 'MISSING' if required else 'absent (optional)'
            print(f'{status:>18}  {path}  (published at {source})')
            failed |= required
            continue
        try:
            problem = check(path)
        except Exception as err:  # unreadable: say so, with the file
            problem = f'{type(err).__name__}: {err}'
        print(f'{"ok" if problem is None else "DOES NOT FIT":>18}  {path}' +
              ('' if problem is None else f'  {problem}'))
        failed |= problem is not None
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
