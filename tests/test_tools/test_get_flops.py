# Copyright (c) mmavs contributors. All rights reserved.
"""tools/analysis_tools/get_flops.py: every module counted, against a count by hand.

The hand count follows mmengine's conventions (one multiply-add = one FLOP; convolution
``C_out * C_in / groups * k * k`` per output position; Linear ``in * out`` per row; matrix
products ``m * k * n``; BatchNorm in eval ``2`` per element; LayerNorm ``5`` per element;
bilinear resize ``4`` per output element; adaptive average pooling ``1`` per input element;
element-wise operations, activations, max pooling and softmax free) and is written from the
architecture of the tiny TPAVI model of the main job (``configs/_base_/models/tpavi_mit-tiny.py``
with the robust S4 config's clip-level audio and mask-pooled similarity), not from the counter.
"""
import re

import pytest

from mmavs_testing import ROBUST_S4
from mmavs_testing.cli import REPO, load_tool, run_tool

pytestmark = pytest.mark.usefixtures('one_torch_thread')


def conv(c_in, c_out, k, positions, groups=1):
    return c_out * (c_in // groups) * k * k * positions


def out_size(size, k, stride, pad):
    return (size + 2 * pad - k) // stride + 1


def mit_flops(size,
              embed=16,
              heads=(1, 2, 4, 8),
              patches=(7, 3, 3, 3),
              strides=(4, 2, 2, 2),
              srs=(8, 4, 2, 1),
              mlp_ratio=2):
    """MixVisionTransformer, one layer per stage; returns (FLOPs, stage sizes, channels)."""
    flops, sizes, channels = 0, [], []
    c_in, side = 3, size
    for i in range(4):
        c = embed * heads[i]
        side = out_size(side, patches[i], strides[i], patches[i] // 2)
        n = side * side
        flops += conv(c_in, c, patches[i], n) + 5 * c * n  # patch embedding + its LayerNorm
        flops += 5 * c * n  # norm1
        if srs[i] > 1:
            kv_side = out_size(side, srs[i], srs[i], 0)
            m = kv_side * kv_side
            flops += conv(c, c, srs[i], m) + 5 * c * m  # spatial reduction + LayerNorm
        else:
            m = n
        flops += n * c * c + m * c * 2 * c  # q, packed k/v projections
        flops += 2 * n * m * c  # Q K^T and attn V over all heads
        flops += n * c * c  # out projection
        flops += 5 * c * n  # norm2
        hidden = mlp_ratio * c
        flops += conv(c, hidden, 1, n) + conv(hidden, hidden, 3, n, hidden) + conv(hidden, c, 1, n)
        flops += 5 * c * n  # stage norm
        sizes.append(side)
        channels.append(c)
        c_in = c
    return flops, sizes, channels


def audio_cnn_flops(examples, c=16, out=64):
    """AudioCNN (width c, 'time' pooling) on ``examples`` log-mel examples [96, 64]."""
    flops = 0
    h, w = 48, 32  # stride-2 first conv
    for c_in, c_out, pool in ((1, c, True), (c, 2 * c, True), (2 * c, 4 * c, True), (4 * c, 4 * c,
                                                                                     False)):
        flops += conv(c_in, c_out, 3, h * w) + 2 * c_out * h * w  # conv + BN
        if pool:
            h, w = h // 2, w // 2
    flops += 4 * c * h * w  # adaptive average pool to (1, 4)
    flops += 4 * c * 4 * out  # fc
    return examples * flops


def tpavi_flops(channels, sizes, audio=64):
    flops = 0
    for c, side in zip(channels, sizes):
        inter, hw = c // 2, side * side
        flops += audio * c + c * inter  # audio_proj, phi
        flops += inter * c + inter  # phi(a) @ theta.weight, phi(a) @ theta.bias
        flops += c * hw  # the response einsum
        flops += c * inter  # g on the mean
        flops += inter * c  # g_mean @ w_z.weight.T
        flops += 2 * c * hw  # BN after W_z
    return flops


def segformer_head_flops(channels, sizes, size, head=64):
    first = sizes[0] * sizes[0]
    flops = 0
    for c, side in zip(channels, sizes):
        flops += conv(c, head, 1, side * side) + 2 * head * side * side  # ConvModule
        flops += 4 * head * first  # resize to the first stage (also for the first)
    flops += conv(4 * head, head, 1, first) + 2 * head * first  # fusion ConvModule
    flops += conv(head, 1, 1, first)  # conv_seg
    flops += 4 * size * size  # logits resized to the input size
    return flops


def similarity_flops(size, visual=64 + 128, audio=64, dims=64):
    # mask pooling of stages 3 and 4: the mask probabilities averaged to each stage's size
    return 2 * size * size + visual * dims + audio * dims


def hand_count(size):
    backbone, sizes, channels = mit_flops(size)
    return (backbone + audio_cnn_flops(5) + tpavi_flops(channels, sizes) +
            segformer_head_flops(channels, sizes, size) + similarity_flops(size))


def test_tiny_model_flops_match_the_hand_count(capsys):
    tool = load_tool('tools/analysis_tools/get_flops.py')
    result = tool.main([str(ROBUST_S4), '--shape', '112', '112'])
    expected = hand_count(112)
    assert abs(result['flops'] - expected) / expected < 0.01, (result['flops'], expected)
    # every module with parameters is counted: in its own row or, folded, in its parent's
    by_module = result['by_module']
    for name in ('backbone', 'audio_backbone', 'fusion', 'decode_head', 'similarity_head'):
        assert by_module[name] > 0, name
    assert 'fusion.blocks.0.theta' in result['folded']
    assert 'fusion.blocks.0.w_z' in result['folded']
    assert not result['uncalled'], result['uncalled']
    # the fusion's share is the hand count of TPAVI alone
    _, sizes, channels = mit_flops(112)
    # exact up to mmengine's rounding of each block's einsum count (at most 1 a block)
    assert abs(by_module['fusion'] - tpavi_flops(channels, sizes)) <= len(channels)
    assert by_module['audio_backbone'] == audio_cnn_flops(5)
    out = capsys.readouterr().out
    assert f'({result["flops"]} multiply-adds)' in out


def test_cli_pads_like_the_preprocessor_and_names_a_missing_config(tmp_path):
    proc = run_tool([
        REPO / 'tools/analysis_tools/get_flops.py', ROBUST_S4, '--shape', '100', '--cfg-options',
        'model.data_preprocessor.test_cfg.size_divisor=32'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'padded to (128, 128)' in proc.stdout  # test-time padding to a multiple of 32
    counted = int(re.search(r'\((\d+) multiply-adds\)', proc.stdout).group(1))
    assert abs(counted - hand_count(128)) / hand_count(128) < 0.01
    missing = tmp_path / 'nope.py'
    proc = run_tool([REPO / 'tools/analysis_tools/get_flops.py', missing])
    assert proc.returncode == 2 and str(missing) in proc.stderr
