# Copyright (c) mmavs contributors. All rights reserved.
"""PVTv2 against an independent re-statement of the original PVT-v2 forward.

The oracle, :class:`ReferencePVTv2`, is the architecture of the original release written out
here with the original module names, so its ``state_dict()`` is the published ``pvt_v2_b*.pth``
layout (``patch_embed1.proj.weight``, ``block1.0.attn.kv.weight``, ..., ``head.*``) without using
MMDetection or mmavs. Seeded random weights are saved to a ``.pth`` and loaded through the config
path (``MODELS.build`` + ``init_weights``), and the four stage features must agree.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmseg.registry import MODELS
from torch import nn

from mmavs.models.backbones import PVTv2
from mmavs.models.backbones.pvt_v2 import PVT_V2_ARCHS, original_state_dict_shapes

pytestmark = pytest.mark.usefixtures('one_torch_thread')

# small but complete: every stage, mixed mlp ratios, sr 8/4/2/1, 2 blocks in a stage
TINY_ARCH = dict(
    embed_dims=8,
    num_layers=[1, 2, 1, 1],
    num_heads=[1, 2, 2, 4],
    mlp_ratios=[8, 8, 4, 4],
    sr_ratios=[8, 4, 2, 1])
# odd input size: the overlapping patch embeddings round up (70 x 58 -> 18 x 15 -> ... -> 3 x 2)
INPUT_SHAPE = (2, 3, 70, 58)


class ReferenceAttention(nn.Module):
    """Spatial-reduction attention; keys/values from a ``sr x sr`` stride-``sr`` conv + LN."""

    def __init__(self, dim, num_heads, sr_ratio):
        super().__init__()
        self.num_heads, self.sr_ratio = num_heads, sr_ratio
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)  # PyTorch's default eps, 1e-5, as released

    def forward(self, x, h, w):
        B, N, C = x.shape
        d = C // self.num_heads
        q = self.q(x).view(B, N, self.num_heads, d).transpose(1, 2)  # [B, heads, N, d]
        src = x
        if self.sr_ratio > 1:
            grid = x.transpose(1, 2).reshape(B, C, h, w)
            src = self.norm(self.sr(grid).flatten(2).transpose(1, 2))  # [B, M, C]
        k, v = self.kv(src).view(B, -1, 2, self.num_heads, d).permute(2, 0, 3, 1, 4)
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)  # [B, heads, N, M]
        return self.proj((weights @ v).transpose(1, 2).reshape(B, N, C))


class ReferenceMlp(nn.Module):
    """Mix-FFN: fc1 -> 3x3 depth-wise conv (``dwconv.dwconv``) -> GELU -> fc2."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Module()
        self.dwconv.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        x = self.fc1(x)
        B, N, C = x.shape
        x = self.dwconv.dwconv(x.transpose(1, 2).reshape(B, C, h, w)).flatten(2).transpose(1, 2)
        return self.fc2(F.gelu(x))


class ReferenceBlock(nn.Module):

    def __init__(self, dim, num_heads, mlp_ratio, sr_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = ReferenceAttention(dim, num_heads, sr_ratio)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = ReferenceMlp(dim, dim * mlp_ratio)

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class ReferencePVTv2(nn.Module):
    """The released PVT-v2 (original names, classifier ``head``), returning the 4 stage maps."""

    def __init__(self,
                 embed_dims,
                 num_layers,
                 num_heads,
                 mlp_ratios,
                 sr_ratios,
                 in_channels=3,
                 num_classes=10):
        super().__init__()
        c_in = in_channels
        for i in range(4):
            c, k = embed_dims * num_heads[i], 7 if i == 0 else 3
            patch_embed = nn.Module()
            patch_embed.proj = nn.Conv2d(c_in, c, k, stride=4 if i == 0 else 2, padding=k // 2)
            patch_embed.norm = nn.LayerNorm(c)  # eps 1e-5, as released
            setattr(self, f'patch_embed{i + 1}', patch_embed)
            setattr(
                self, f'block{i + 1}',
                nn.ModuleList(
                    ReferenceBlock(c, num_heads[i], mlp_ratios[i], sr_ratios[i])
                    for _ in range(num_layers[i])))
            setattr(self, f'norm{i + 1}', nn.LayerNorm(c, eps=1e-6))
            c_in = c
        self.head = nn.Linear(c_in, num_classes)

    def forward(self, x):
        outs = []
        for i in range(1, 5):
            patch_embed = getattr(self, f'patch_embed{i}')
            x = patch_embed.proj(x)
            B, C, h, w = x.shape
            x = patch_embed.norm(x.flatten(2).transpose(1, 2))  # [B, h * w, C]
            for block in getattr(self, f'block{i}'):
                x = block(x, h, w)
            x = getattr(self, f'norm{i}')(x).transpose(1, 2).reshape(B, C, h, w)
            outs.append(x)
        return outs


def randomise_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Seeded weights of a trained-like scale: matrices ~ N(0, 1 / fan_in), norm gains
    1 + N(0, 0.1^2), biases N(0, 0.1^2)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=gen)
            if param.dim() > 1:
                param.copy_(noise / math.sqrt(param[0].numel()))
            elif name.endswith('weight'):
                param.copy_(1 + 0.1 * noise)
            else:
                param.copy_(0.1 * noise)
    return model.eval()


def save_reference(tmp_path, arch=TINY_ARCH, seed=0):
    ref = randomise_(ReferencePVTv2(**arch), seed)
    path = tmp_path / 'pvt_v2_ref.pth'
    torch.save(ref.state_dict(), path)
    return ref, path


def build_pvt(checkpoint, arch=TINY_ARCH, **kwargs):
    """The config path: ``MODELS.build`` in the mmseg scope, then ``init_weights``."""
    model = MODELS.build(
        dict(
            type='PVTv2',
            arch=arch,
            **kwargs,
            init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint))))
    model.init_weights()
    return model.eval()


def assert_same_features(actual, expected, atol=1e-5):
    assert len(actual) == len(expected) == 4
    for stage, (a, e) in enumerate(zip(actual, expected)):
        assert a.shape == e.shape, f'stage {stage + 1}: {tuple(a.shape)} vs {tuple(e.shape)}'
        err = (a - e).abs().max().item()
        assert err <= atol, f'stage {stage + 1}: max abs difference {err:.3g} > {atol}'


def test_original_layout_loads_and_matches_reference(tmp_path):
    ref, path = save_reference(tmp_path)
    assert any(k.startswith('head.') for k in ref.state_dict())  # ignored, not an error
    model = build_pvt(path)
    assert isinstance(model, PVTv2)
    # every backbone key of the file is used: the model's weights are the file's, converted
    expected = {k: v for k, v in ref.state_dict().items() if not k.startswith('head.')}
    assert set(original_state_dict_shapes(TINY_ARCH)) == set(expected)
    assert sum(v.numel() for v in model.state_dict().values()) == \
        sum(v.numel() for v in expected.values())
    x = torch.randn(INPUT_SHAPE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        outs, ref_outs = model(x), ref(x)
    assert [tuple(o.shape) for o in outs] == [(2, 8, 18, 15), (2, 16, 9, 8), (2, 16, 5, 4),
                                              (2, 32, 3, 2)]
    assert model.out_channels == [8, 16, 16, 32]
    assert_same_features(outs, ref_outs)


def test_segmentor_init_weights_loads_backbone(tmp_path):
    """As from a config file (``ConfigDict`` throughout): the Runner calls ``init_weights`` on
    the whole model and the backbone loads strictly there."""
    ref, path = save_reference(tmp_path)
    cfg = Config(
        dict(
            model=dict(
                type='EncoderDecoder',
                backbone=dict(
                    type='PVTv2',
                    arch=TINY_ARCH,
                    init_cfg=dict(type='Pretrained', checkpoint=str(path))),
                decode_head=dict(
                    type='SegformerHead',
                    in_channels=[8, 16, 16, 32],
                    in_index=[0, 1, 2, 3],
                    channels=8,
                    num_classes=2))))
    segmentor = MODELS.build(cfg.model)
    segmentor.init_weights()
    x = torch.randn(INPUT_SHAPE, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert_same_features(segmentor.eval().extract_feat(x), ref(x))


def test_original_layernorm_eps_is_kept(tmp_path):
    """The patch-embedding and spatial-reduction norms use eps 1e-5, the others 1e-6; with one
    eps for all (MMDetection's ``norm_cfg``) a low-variance patch embedding is visibly off."""
    ref, _ = save_reference(tmp_path)
    with torch.no_grad():  # patch-embedding outputs with a variance near eps
        for i in range(1, 5):
            getattr(ref, f'patch_embed{i}').proj.weight.mul_(3e-3)
            getattr(ref, f'patch_embed{i}').proj.bias.mul_(3e-3)
    path = tmp_path / 'low_variance.pth'
    torch.save(ref.state_dict(), path)
    model, mmdet_eps = build_pvt(path), build_pvt(path, embed_sr_norm_eps=None)
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    assert sorted({m.eps for m in norms}) == [1e-6, 1e-5]
    assert {m.eps for m in mmdet_eps.modules() if isinstance(m, nn.LayerNorm)} == {1e-6}
    x = torch.randn(INPUT_SHAPE, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref_outs = ref(x)
        assert_same_features(model(x), ref_outs)
        off = max((a - e).abs().max().item() for a, e in zip(mmdet_eps(x), ref_outs))
    assert off > 1e-3


def test_converted_layout_round_trip_with_prefix(tmp_path):
    """A training checkpoint (``state_dict`` / ``backbone.`` keys in this module's layout) loads
    strictly too, with ``init_cfg.prefix``."""
    _, path = save_reference(tmp_path)
    first = build_pvt(path)
    ckpt = tmp_path / 'segmentor.pth'
    torch.save(
        {
            'meta': {
                'epoch': 1
            },
            'state_dict': {
                f'backbone.{k}': v
                for k, v in first.state_dict().items()
            }
        }, ckpt)
    model = MODELS.build(
        dict(
            type='PVTv2',
            arch=TINY_ARCH,
            init_cfg=dict(type='Pretrained', checkpoint=str(ckpt), prefix='backbone.')))
    model.init_weights()
    for key, value in first.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_missing_file_names_the_release(tmp_path):
    missing = tmp_path / 'pretrained' / 'pvt_v2_b5.pth'
    model = MODELS.build(
        dict(type='PVTv2', arch='b0', init_cfg=dict(type='Pretrained', checkpoint=str(missing))))
    with pytest.raises(FileNotFoundError) as err:
        model.init_weights()
    assert str(missing) in str(err.value)
    assert 'pvt_v2_b0.pth' in str(err.value)
    assert 'https://github.com/whai362/PVT/releases' in str(err.value)


def test_wrong_key_layout_names_missing_and_unexpected_keys(tmp_path):
    ref, _ = save_reference(tmp_path)
    state_dict = {k.replace('block1.0.', 'blocks1.0.'): v for k, v in ref.state_dict().items()}
    path = tmp_path / 'renamed.pth'
    torch.save(state_dict, path)
    with pytest.raises(ValueError) as err:
        build_pvt(path)
    message = str(err.value)
    assert str(path) in message
    assert 'missing keys: block1.0.norm1.weight' in message
    assert 'unexpected keys: blocks1.0.norm1.weight' in message
    assert 'head.' not in message


def test_other_arch_is_a_shape_error(tmp_path):
    _, path = save_reference(tmp_path)
    other = dict(TINY_ARCH, embed_dims=4)
    with pytest.raises(
            ValueError,
            match='shape mismatch: patch_embed1.proj.weight: expected '
            r'\[4, 3, 7, 7\], found \[8, 3, 7, 7\]'):
        build_pvt(path, arch=other)


def test_random_init_without_checkpoint():
    model = MODELS.build(dict(type='PVTv2', arch=TINY_ARCH))
    model.init_weights()
    with torch.no_grad():
        outs = model.eval()(torch.zeros(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [8, 16, 16, 32]
    assert all(torch.isfinite(o).all() for o in outs)


#: parameters of the released ImageNet models (PVT-v2 README), classifier included
RELEASED_PARAMS_M = dict(b0=3.7, b1=14.0, b2=25.4, b3=45.2, b4=62.6, b5=82.0)


@pytest.mark.parametrize('arch', sorted(PVT_V2_ARCHS))
def test_arch_table_matches_the_release_layout(arch):
    """For b0-b5 (the re-stated original on the meta device, no weights allocated): the original
    layout of the arch table is the re-stated model's state dict, MMDetection's conversion of it
    is exactly PVTv2's state dict (names and shapes), and the size is the released one."""
    from mmdet.models.backbones.pvt import pvt_convert

    model = MODELS.build(dict(type='PVTv2', arch=arch))
    with torch.device('meta'):
        ref = ReferencePVTv2(**PVT_V2_ARCHS[arch], num_classes=1000)
    table = original_state_dict_shapes(arch)
    ref_shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    assert dict(table) == {k: v for k, v in ref_shapes.items() if not k.startswith('head.')}
    converted = pvt_convert({k: torch.empty(shape, device='meta') for k, shape in table.items()})
    assert {k: tuple(v.shape) for k, v in converted.items()} == \
        {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert model.out_channels == ([32, 64, 160, 256] if arch == 'b0' else [64, 128, 320, 512])
    assert [len(stage[1]) for stage in model.layers] == list(PVT_V2_ARCHS[arch]['num_layers'])
    released = sum(math.prod(shape) for shape in ref_shapes.values())
    assert round(released / 1e6, 1) == RELEASED_PARAMS_M[arch]
