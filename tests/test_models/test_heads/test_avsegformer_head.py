# Copyright (c) mmavs contributors. All rights reserved.
"""AVSegFormer(-robust) in mmavs against an independent re-statement of the authors' forward.

The reference (``mmavs_testing.avsegformer_reference``) has the authors' module structure and
checkpoint key layout; a seeded reference checkpoint goes through
``tools/model_converters/avsegformer2mmavs.py`` and must load into the mmavs model with
``strict=True`` and give the same mask logits (and, robust, the same cosine) on the same
normalised frames and log-mel.
"""
import functools
import glob
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

from mmavs_testing import REPO
from mmavs_testing.avsegformer_reference import reference_state_dict
from mmavs_testing.cli import load_tool
from mmavs_testing.models import make_samples

# reduced sizes: stage channels 8 x (1, 2, 5, 8) (PVT-v2 keeps one per-head width), a 32-wide head
SIZES = dict(
    pvt_embed_dims=(8, 16, 40, 64),
    pvt_num_heads=(1, 2, 5, 8),
    pvt_mlp_ratios=(2, 2, 2, 2),
    pvt_depths=(1, 2, 2, 1),
    pvt_sr_ratios=(8, 4, 2, 1),
    embed_dim=32,
    num_heads=4,
    num_queries=12,
    enc_layers=2,
    dec_layers=2,
    qg_layers=2,
    enc_ffn_dim=48,
    dec_ffn_dim=48,
    qg_ffn_dim=24,
    num_points=3,
    gn_groups=8,
    mlp_hidden=20,
    fc_dims=(16, 8))
SIZE = 64
converter = load_tool('tools/model_converters/avsegformer2mmavs.py')

pytestmark = pytest.mark.usefixtures('one_torch_thread')


def mmavs_model_cfg(robust: bool) -> dict:
    """The mmavs AVSegFormer(-robust) model at the reduced sizes of :data:`SIZES`."""
    cfg = dict(
        type='AVSegmentor',
        backbone=dict(
            type='PVTv2',
            arch=dict(
                embed_dims=8,
                num_layers=SIZES['pvt_depths'],
                num_heads=SIZES['pvt_num_heads'],
                mlp_ratios=SIZES['pvt_mlp_ratios'],
                sr_ratios=SIZES['pvt_sr_ratios'])),
        audio_backbone=dict(type='VGGish', frozen=True),
        audio_neck=dict(type='AudioProjection', in_channels=128, out_channels=32),
        decode_head=dict(
            type='AVSegFormerHead',
            in_channels=list(SIZES['pvt_embed_dims']),
            channels=32,
            num_queries=12,
            num_heads=4,
            num_encoder_layers=2,
            num_decoder_layers=2,
            num_generator_layers=2,
            ffn_channels=48,
            generator_ffn_channels=24,
            query_mlp_channels=20,
            num_points=3,
            num_groups=8,
            predictor_channels=(16, 8),
            num_classes=2,
            out_channels=1,
            threshold=0.5,
            loss_decode=[dict(type='EmptySafeDiceLoss')],
            loss_mix=[dict(type='EmptySafeDiceLoss', loss_weight=0.1)]),
        test_cfg=dict(mode='whole'))
    if robust:
        cfg['similarity_head'] = dict(
            type='SimilarityHead',
            visual_channels=64,
            audio_channels=32,
            embed_dims=64,
            in_index=3,
            project_visual=False,
            learnable=False,
            scale=1.0,
            bias=0.0)
    return cfg


def inputs(n=2, seed=3):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, SIZE, SIZE, generator=gen), torch.randn(n, 96, 64, generator=gen)


@pytest.mark.parametrize('robust', [False, True])
def test_converted_checkpoint_reproduces_the_authors_outputs(robust, tmp_path):
    reference, state = reference_state_dict(seed=1, robust=robust, **SIZES)
    src, dst = tmp_path / 'authors.pth', tmp_path / 'mmavs.pth'
    # as DataParallel training saves it: a 'module.' prefix
    torch.save({f'module.{k}': v for k, v in state.items()}, src)
    assert converter.main([str(src), str(dst)]) == 0
    model = MODELS.build(mmavs_model_cfg(robust)).eval()
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    frames, log_mel = inputs()
    with torch.no_grad():
        expected = reference(frames, log_mel)
        batch = dict(img=frames, audio=log_mel)
        logits = model.encode_decode(batch, [dict(img_shape=(SIZE, SIZE))] * 2)
        preds = model.predict(batch, make_samples([1, 0], size=SIZE))
    assert expected['pred'].shape == logits.shape == (2, 1, SIZE, SIZE)
    assert expected['pred'].std() > 0.1  # a live comparison, not of two constants
    assert torch.allclose(logits, expected['pred'], atol=1e-4, rtol=1e-4)
    probs = torch.stack([p.seg_logits.data for p in preds])
    assert torch.allclose(probs, expected['pred'].sigmoid(), atol=1e-5)
    if robust:
        similarity = torch.stack([p.pred_similarity for p in preds])
        assert torch.allclose(similarity, expected['cosine'].sigmoid(), atol=1e-6)
    else:
        assert not hasattr(preds[0], 'pred_similarity')
    # the audio is heard: other log-mel, other masks
    with torch.no_grad():
        other = model.encode_decode(
            dict(img=frames, audio=log_mel.flip(0)), [dict(img_shape=(SIZE, SIZE))] * 2)
    assert not torch.allclose(other, logits, atol=1e-3)


def test_training_step_trains_the_mask_mix_and_similarity():
    model = MODELS.build(mmavs_model_cfg(robust=True))
    model.init_weights()
    model.train()
    frames, log_mel = inputs()
    samples = make_samples([1, 0], size=SIZE)
    for sample, category in zip(samples, ('guitar', 'dog')):
        sample.set_metainfo(dict(category=category, video_id=category))
    losses = model.loss(dict(img=frames, audio=log_mel), samples)
    assert {'decode.loss_dice', 'decode.loss_dice_mix', 'decode.acc_seg',
            'sim.loss_sim'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    head = model.decode_head
    for name in ('transformer.encoder.layers.0.self_attn.sampling_offsets.weight',
                 'query_generator.layers.0.cross_attn.in_proj_weight', 'fusion_block.q_proj.weight',
                 'fc.4.weight'):
        grad = dict(head.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert model.audio_neck.proj.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.audio_backbone.parameters())  # frozen VGGish
    # the negative's empty mask trains the mask (empty-safe Dice), not only the similarity
    negative = model.loss(dict(img=frames[1:], audio=log_mel[1:]), samples[1:])
    model.zero_grad()
    negative['decode.loss_dice'].backward()
    assert head.fc[4].weight.grad.abs().sum() > 0


def test_converter_refuses_unknown_keys_and_converts_the_resnet_variant(tmp_path):
    _, state = reference_state_dict(seed=0, **SIZES)
    with pytest.raises(ValueError, match='no known AVSegFormer part'):
        converter.convert(dict(state, **{'decoder.extra.weight': torch.zeros(1)}))
    converted, info = converter.convert(dict(state_dict=state))
    assert info == dict(backbone='pvt_v2', robust=False, dropped=11)  # fpn (6) + attn_fc (5)
    assert not any(k.startswith(('decode_head.fpn.', 'decode_head.attn_fc.')) for k in converted)
    # ResNet-50 (B2_ResNet): layer3_1/layer4_1 renamed, their unused copies dropped
    resnet = MODELS.build(dict(type='ResNet', depth=50, style='pytorch')).state_dict()
    authors = {}
    for key, value in resnet.items():
        for old, new in (('layer3.', 'layer3_1.'), ('layer4.', 'layer4_1.')):
            if key.startswith(old):
                authors['backbone.' + new + key[len(old):]] = value
                authors['backbone.' + new.replace('_1', '_2') + key[len(old):]] = value
                break
        else:
            authors['backbone.' + key] = value
    converted, info = converter.convert(authors)
    assert info['backbone'] == 'resnet50'
    assert set(converted) == {'backbone.' + k for k in resnet}


AVSEGFORMER_CONFIGS = sorted(glob.glob(str(REPO / 'configs' / 'avsegformer' / '*.py')))


@functools.lru_cache(maxsize=2)
def full_size_reference_layout(robust: bool) -> dict:
    """Keys and shapes the converter makes of a full-size authors' checkpoint."""
    _, state = reference_state_dict(seed=0, robust=robust)
    converted, _ = converter.convert(state)
    return {k: tuple(v.shape) for k, v in converted.items()}


@pytest.mark.parametrize('path', AVSEGFORMER_CONFIGS, ids=lambda p: p.split('/')[-1][:-3])
def test_full_size_configs_build_and_take_a_converted_checkpoint(path):
    cfg = Config.fromfile(path)
    robust = cfg.model.get('similarity_head') is not None
    model = MODELS.build(cfg.model)
    assert model.decode_head.out_channels == 1
    params = sum(p.numel() for p in model.parameters()) / 1e6
    if 'pvt-v2-b5' in path:  # every tensor of the authors' PVT-v2-b5 model, converted, fits
        own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        assert own == full_size_reference_layout(robust)
        # 81.4 M backbone + 72.1 M VGGish + 30.3 M head (the authors' 32.4 less 2.1 M unused)
        # + the audio projection (+ 0.13 M cosine projection)
        assert math.isclose(params, 184.08 if robust else 183.95, abs_tol=0.01), params
    elif '_r50_' in path:
        assert model.backbone.depth == 50 and cfg.model.decode_head.in_channels[-1] == 2048
    else:  # the CPU size: PVT-v2-b0
        assert 'pvt-v2-b0' in path and model.backbone.arch_name == 'b0'
        assert cfg.model.decode_head.in_channels == [32, 64, 160, 256]


def test_the_head_refuses_a_batch_of_plain_features():
    model = MODELS.build(mmavs_model_cfg(robust=False))
    with pytest.raises(TypeError, match=r'\(visual feats, audio'):
        model.decode_head([torch.zeros(1, 8, 16, 16)] * 4)
    with pytest.raises(ValueError, match='four visual stages'):
        MODELS.build(dict(mmavs_model_cfg(False)['decode_head'], in_channels=[8, 16, 40]))
