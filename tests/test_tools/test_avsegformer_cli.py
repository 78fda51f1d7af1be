# Copyright (c) mmavs contributors. All rights reserved.
"""The AVSegFormer code path through tools/train.py and tools/test.py (CPU-size config), and the
converter and checkpoint-check tools on the command line."""
import json

import torch

from mmavs_testing.avsegformer_reference import reference_state_dict
from mmavs_testing.cli import REPO, run_tool, write_tiny_config

CPU_CONFIG = ('configs/avsegformer/'
              'avsegformer-robust_pvt-v2-b0_1xb8-20e_synthavs-robust-s4-112x112.py')


def test_cpu_size_avsegformer_trains_and_tests_every_condition(tiny_synth_root, tmp_path):
    cfg = write_tiny_config(tmp_path / 'avsf.py', tiny_synth_root, base=CPU_CONFIG, epochs=1)
    work = tmp_path / 'work'
    out = run_tool([REPO / 'tools/train.py', cfg, '--work-dir', work])
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'decode.loss_dice_mix' in out.stdout + out.stderr
    out = run_tool([REPO / 'tools/test.py', cfg, work / 'epoch_1.pth', '--work-dir', tmp_path])
    assert out.returncode == 0, out.stderr[-3000:]
    table = json.loads(next(tmp_path.rglob('robust_metrics.json')).read_text())
    assert set(
        table['no_gate']['conditions']) == {'positive', 'silence', 'noise', 'offscreen', 'unseen'}
    assert 0.0 <= table['no_gate']['conditions']['silence']['similarity'] <= 1.0


def test_converter_cli_and_unknown_file(tmp_path):
    _, state = reference_state_dict(
        seed=0,
        robust=True,
        pvt_depths=(1, 1, 1, 1),
        pvt_embed_dims=(8, 16, 40, 64),
        embed_dim=32,
        num_heads=4,
        num_queries=4,
        enc_layers=1,
        dec_layers=1,
        qg_layers=1,
        gn_groups=8,
        mlp_hidden=8,
        vggish_channels=(4, ) * 6,
        vggish_fc_dims=(8, 8))
    torch.save(state, tmp_path / 'S4_best.pth')
    out = run_tool([
        REPO / 'tools/model_converters/avsegformer2mmavs.py', tmp_path / 'S4_best.pth',
        tmp_path / 'converted.pth'
    ])
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'pvt_v2 backbone, with the similarity head, 11 unused dropped' in out.stdout
    converted = torch.load(tmp_path / 'converted.pth', weights_only=True)
    assert converted['meta']['robust'] and 'similarity_head.audio_proj.weight' in converted[
        'state_dict']
    out = run_tool([
        REPO / 'tools/model_converters/avsegformer2mmavs.py', tmp_path / 'none.pth',
        tmp_path / 'x.pth'
    ])
    assert out.returncode != 0 and 'none.pth' in out.stderr


def _lines(stdout, names):
    return {name: line.strip() for line in stdout.splitlines() for name in names if name in line}


def test_check_checkpoints_names_missing_and_misfit_files(tmp_path):
    from mmavs.models import VGGish
    from mmavs.models.backbones.pvt_v2 import original_state_dict_shapes
    names = ('pvt_v2_b0.pth', 'vggish-10086976.pth', 'vggish_pca_params-970ea276.pth',
             'resnet50-19c8e357.pth')
    torch.save(VGGish(frozen=False).state_dict(), tmp_path / 'vggish-10086976.pth')
    out = run_tool([REPO / 'tools/misc/check_checkpoints.py', tmp_path, '--pvt-arch', 'b0'])
    lines = _lines(out.stdout, names)
    assert out.returncode == 1
    assert lines['pvt_v2_b0.pth'].startswith('MISSING') and 'whai362/PVT' in lines['pvt_v2_b0.pth']
    assert lines['vggish-10086976.pth'].startswith('ok')
    assert lines['resnet50-19c8e357.pth'].startswith('absent (optional)')
    # a file of the wrong layout, then the right one
    torch.save({'patch_embed1.proj.weight': torch.zeros(3)}, tmp_path / 'pvt_v2_b0.pth')
    out = run_tool([REPO / 'tools/misc/check_checkpoints.py', tmp_path, '--pvt-arch', 'b0'])
    line = _lines(out.stdout, names)['pvt_v2_b0.pth']
    assert out.returncode == 1 and line.startswith('DOES NOT FIT') and 'missing' in line
    shapes = original_state_dict_shapes('b0')
    torch.save({k: torch.zeros(v) for k, v in shapes.items()}, tmp_path / 'pvt_v2_b0.pth')
    out = run_tool([REPO / 'tools/misc/check_checkpoints.py', tmp_path, '--pvt-arch', 'b0'])
    assert out.returncode == 0, out.stdout + out.stderr
    assert _lines(out.stdout, names)['pvt_v2_b0.pth'].startswith('ok')
