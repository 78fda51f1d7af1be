# Copyright (c) mmavs contributors. All rights reserved.
"""Fusion modules: exactness of the cheap forms, identity at initialisation, audio dependence."""
import pytest
import torch
from mmseg.registry import MODELS

from mmavs.models.fusion import ChannelGateBlock, TPAVIBlock


def conv1x1(linear, x):
    """A Linear layer applied as a 1x1 convolution to ``[B, C, H, W]``."""
    out = torch.einsum('bchw,oc->bohw', x, linear.weight)
    if linear.bias is not None:
        out = out + linear.bias[None, :, None, None]
    return out


def explicit_tpavi(block, x, audio):
    """The AVSBench dot-product non-local block with the audio broadcast over all positions."""
    b, c, h, w = x.shape
    n = h * w
    audio_map = block.audio_proj(audio)[:, :, None, None].expand(b, c, h, w)
    theta = conv1x1(block.theta, x).flatten(2)  # [B, C', N]
    phi = conv1x1(block.phi, audio_map).flatten(2)  # [B, C', N]
    g = conv1x1(block.g, x).flatten(2)  # [B, C', N]
    f = theta.transpose(1, 2) @ phi / n  # [B, N, N]
    y = (f @ g.transpose(1, 2)).transpose(1, 2).reshape(b, -1, h, w)
    return x + block.norm(conv1x1(block.w_z, y))


def randomise_(module):
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
        for name, buf in module.named_buffers():
            if name.endswith('running_var'):
                buf.uniform_(0.5, 2.0)
            elif name.endswith('running_mean'):
                buf.normal_()


def test_tpavi_equals_explicit_non_local_block():
    block = TPAVIBlock(channels=8, audio_channels=5)
    randomise_(block)
    block.eval()
    x, audio = torch.randn(2, 8, 3, 5), torch.randn(2, 5)
    assert torch.allclose(block(x, audio), explicit_tpavi(block, x, audio), atol=1e-5)


def test_channel_gate_attention_equals_explicit_multi_head_attention():
    block = ChannelGateBlock(channels=8, audio_channels=5, num_heads=2, spatial_gate=True)
    randomise_(block)
    x, audio = torch.randn(2, 8, 3, 4), torch.randn(2, 5)
    b, c, h, w = x.shape
    q = block.q_proj(block.audio_proj(audio)).view(b, 2, 4)
    flat = x.flatten(2).transpose(1, 2)  # [B, N, C]
    k = block.k_proj(flat).view(b, h * w, 2, 4).permute(0, 2, 1, 3)
    v = block.v_proj(flat).view(b, h * w, 2, 4).permute(0, 2, 1, 3)
    logits = torch.einsum('bhd,bhnd->bhn', q, k) * 4**-0.5
    context = torch.einsum('bhn,bhnd->bhd', logits.softmax(-1), v).reshape(b, c)
    expected = x * (2 * torch.sigmoid(block.out_proj(context)))[:, :, None, None]
    affinity = logits.mean(1).view(b, 1, h, w)
    affinity = affinity - affinity.mean(dim=(2, 3), keepdim=True)
    expected = expected * 2 * torch.sigmoid(block.spatial_scale * affinity)
    assert torch.allclose(block(x, audio), expected, atol=1e-5)


@pytest.mark.parametrize('cfg', [
    dict(type='TPAVIFusion'),
    dict(type='TPAVIFusion', norm_cfg=None),
    dict(type='ChannelGateFusion', num_heads=2),
    dict(type='ChannelGateFusion', use_attention=False, mlp_ratio=1.0),
    dict(type='ChannelGateFusion', num_heads=2, spatial_gate=True),
])
def test_fusion_is_identity_at_init_and_depends_on_audio_after_training(cfg):
    fusion = MODELS.build(dict(cfg, in_channels=[8, 16], audio_channels=6))
    gen = torch.Generator().manual_seed(11)
    feats = (torch.randn(2, 8, 6, 6, generator=gen), torch.randn(2, 16, 3, 3, generator=gen))
    audio = torch.randn(2, 6, generator=gen)
    out = fusion(feats, audio)
    assert all(torch.equal(a, b) for a, b in zip(out, feats))
    randomise_(fusion)
    out_a = fusion(feats, audio)
    out_b = fusion(feats, torch.randn(2, 6, generator=gen))
    assert [o.shape for o in out_a] == [f.shape for f in feats]
    assert all(not torch.allclose(a, b) for a, b in zip(out_a, out_b))


def test_fusion_touches_only_selected_scales():
    fusion = MODELS.build(
        dict(type='ChannelGateFusion', in_channels=[16], in_index=[1], audio_channels=6))
    randomise_(fusion)
    feats = (torch.randn(1, 8, 4, 4), torch.randn(1, 16, 2, 2), torch.randn(1, 32, 1, 1))
    out = fusion(feats, torch.randn(1, 6))
    assert torch.equal(out[0], feats[0]) and torch.equal(out[2], feats[2])
    assert not torch.allclose(out[1], feats[1])


def test_fusion_reports_mismatches():
    fusion = MODELS.build(dict(type='TPAVIFusion', in_channels=[8], audio_channels=6))
    with pytest.raises(ValueError, match=r'expected \[B=1, C=8'):
        fusion((torch.randn(1, 4, 2, 2), ), torch.randn(1, 6))
    with pytest.raises(ValueError, match='audio embedding'):
        fusion((torch.randn(1, 8, 2, 2), ), torch.randn(1, 7))
    with pytest.raises(ValueError, match='num_heads=3'):
        MODELS.build(dict(type='ChannelGateFusion', in_channels=[8], num_heads=3))
    with pytest.raises(ValueError, match='same length'):
        MODELS.build(dict(type='TPAVIFusion', in_channels=[8, 16], in_index=[0]))
