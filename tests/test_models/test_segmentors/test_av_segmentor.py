# Copyright (c) mmavs contributors. All rights reserved.
"""AVSegmentor with MMSeg (ResNetV1c, MiT, Swin) and MMPretrain backbones, tiny, on CPU."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

from mmavs.models.heads import BaseAVDecodeHead
from mmavs_testing.models import AUDIO_DIMS, TINY_MIT, make_inputs, make_samples, tiny_model_cfg

BACKBONES = {
    'mit': (TINY_MIT, [8, 16, 32, 64]),
    'resnet_v1c':
    (dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
          out_indices=(0, 1, 2, 3)), [8, 16, 32, 64]),
    'swin': (dict(
        type='SwinTransformer',
        embed_dims=8,
        depths=[1, 1, 1, 1],
        num_heads=[1, 2, 2, 4],
        window_size=4,
        out_indices=(0, 1, 2, 3)), [8, 16, 32, 64]),
    'mmpretrain_resnet': (dict(
        type='mmpretrain.ResNet',
        depth=18,
        stem_channels=8,
        base_channels=8,
        out_indices=(0, 1, 2, 3)), [8, 16, 32, 64]),
}


@MODELS.register_module(force=True)
class _AudioGatedHead(BaseAVDecodeHead):
    """A minimal audio-visual head: the last stage times a gate computed from the audio."""

    def __init__(self, audio_channels, **kwargs):
        super().__init__(**kwargs)
        self.audio_gate = nn.Linear(audio_channels, self.in_channels)

    def forward(self, inputs):
        feats, audio = self.split_inputs(inputs)
        x = self._transform_inputs(feats)
        return self.cls_seg(x * self.audio_gate(audio).sigmoid()[:, :, None, None])


def av_head_cfg(channels=64):
    """A model config whose decode head fuses the audio itself (no fusion module)."""
    cfg = tiny_model_cfg()
    cfg['fusion'] = None
    cfg['decode_head'] = dict(
        type='_AudioGatedHead',
        audio_channels=AUDIO_DIMS,
        in_channels=channels,
        in_index=3,
        channels=channels,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        loss_decode=[dict(type='SigmoidBCELoss'),
                     dict(type='EmptySafeIoULoss')])
    return cfg


def build(cfg):
    return MODELS.build(cfg)


def constant_mask_logits_(model, value):
    """Make the decode head predict ``value`` at every pixel."""
    with torch.no_grad():
        model.decode_head.conv_seg.weight.zero_()
        model.decode_head.conv_seg.bias.fill_(value)


def grads_of(module):
    return [p.grad for p in module.parameters() if p.requires_grad]


def total_loss(losses):
    return sum(v for k, v in losses.items() if 'loss' in k)


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_backbone_loss_backward_and_predict(name):
    backbone, channels = BACKBONES[name]
    fusion = 'TPAVIFusion' if name == 'resnet_v1c' else 'ChannelGateFusion'
    model = build(tiny_model_cfg(backbone, channels, fusion=fusion))
    inputs, samples = make_inputs(2), make_samples([1, 0])
    losses = model.loss(inputs, samples)
    assert {'decode.loss_bce', 'decode.loss_iou', 'decode.acc_seg', 'sim.loss_sim'} <= set(losses)
    total_loss(losses).backward()
    for part in ('backbone', 'audio_backbone', 'fusion', 'decode_head', 'similarity_head'):
        grads = grads_of(getattr(model, part))
        assert grads and all(g is not None for g in grads), part
        assert any(g.abs().sum() > 0 for g in grads), part
    model.eval()
    with torch.no_grad():
        preds = model.predict(inputs, make_samples([1, 0]))
    for pred in preds:
        assert pred.seg_logits.data.shape == (1, 64, 64)
        assert pred.pred_sem_seg.data.shape == (1, 64, 64)
        assert pred.pred_sem_seg.data.dtype == torch.long
        assert pred.pred_similarity.dim() == 0
        assert 0.0 <= pred.pred_similarity.item() <= 1.0


def test_seg_logits_hold_the_probability_and_pred_is_thresholded():
    """MMSeg's postprocess_result of a single-channel head: sigmoid probabilities."""
    model = build(tiny_model_cfg()).eval()
    constant_mask_logits_(model, -3.0)
    inputs = make_inputs(1)
    with torch.no_grad():
        pred = model.predict(inputs, make_samples([1]))[0]
        logits = model.encode_decode(inputs, [s.metainfo for s in make_samples([1])])
    probs = pred.seg_logits.data
    assert torch.allclose(logits, torch.full_like(logits, -3.0))
    assert torch.allclose(probs, torch.full_like(probs, torch.tensor(-3.0).sigmoid().item()))
    assert torch.equal(pred.pred_sem_seg.data, (probs > 0.5).long())


@pytest.mark.parametrize('gate_thr,emptied', [(1.0, True), (0.0, False)])
def test_gating_empties_masks_only_below_threshold(gate_thr, emptied):
    model = build(tiny_model_cfg(gate_thr=gate_thr)).eval()
    constant_mask_logits_(model, 5.0)  # every pixel predicted sounding
    with torch.no_grad():
        # scale 100 and bias -200: every similarity probability is ~0 < 1.0, and >= 0.0
        model.similarity_head.bias.fill_(-200.0)
        preds = model.predict(make_inputs(2), make_samples([1, 0]))
    for pred in preds:
        assert pred.gate_thr == pytest.approx(gate_thr)
        assert pred.gated is emptied
        assert (pred.seg_logits.data > 0.5).all()  # seg_logits are never gated
        assert bool(pred.pred_sem_seg.data.any()) is not emptied


def test_gating_follows_similarity():
    model = build(tiny_model_cfg()).eval()
    constant_mask_logits_(model, 5.0)
    inputs = make_inputs(4, seed=3)
    with torch.no_grad():
        ungated = model.predict(inputs, make_samples([1, 0, 1, 0]))
        scores = torch.stack([p.pred_similarity for p in ungated])
        middle = scores.sort().values[1:3]
        model.gate_thr = float(middle.mean())  # two frames on each side of the gate
        preds = model.predict(inputs, make_samples([1, 0, 1, 0]))
    kept = [score.item() >= model.gate_thr for score in scores]
    assert sorted(kept) == [False, False, True, True]
    for pred, keep in zip(preds, kept):
        assert bool(pred.pred_sem_seg.data.any()) is keep
        assert pred.gated is not keep


def test_gate_threshold_is_validated():
    with pytest.raises(ValueError, match=r'in \[0, 1\]'):
        build(tiny_model_cfg(gate_thr=1.5))
    model = build(tiny_model_cfg())
    with pytest.raises(ValueError, match=r'in \[0, 1\]'):
        model.gate_thr = -0.1
    model.gate_thr = 0.25
    assert model.gate_thr == 0.25
    with pytest.raises(ValueError, match='gate_thr needs a similarity_head'):
        build(tiny_model_cfg(similarity=False, gate_thr=0.5))


def test_predict_without_data_samples_and_tensor_mode():
    model = build(tiny_model_cfg()).eval()
    inputs = make_inputs(2)
    with torch.no_grad():
        preds = model.predict(inputs)
        tensor = model(inputs, mode='tensor')
    assert len(preds) == 2 and preds[0].seg_logits.data.shape == (1, 64, 64)
    assert tensor.shape == (2, 1, 16, 16)


def test_predict_removes_padding_flips_and_resizes_to_original_shape():
    model = build(tiny_model_cfg()).eval()
    samples = make_samples([1])
    samples[0].set_metainfo(
        dict(
            ori_shape=(40, 30),
            img_shape=(48, 56),
            padding_size=[0, 8, 0, 16],
            flip=True,
            flip_direction='horizontal'))
    inputs = make_inputs(1)
    with torch.no_grad():
        pred = model.predict(inputs, samples)[0]
        logits = model.encode_decode(inputs, [dict(img_shape=(64, 64))])
    assert pred.seg_logits.data.shape == (1, 40, 30)
    expected = torch.nn.functional.interpolate(
        logits[:, :, :48, :56].flip(-1), size=(40, 30), mode='bilinear', align_corners=False)
    assert torch.allclose(pred.seg_logits.data, expected[0].sigmoid(), atol=1e-6)


def test_only_whole_image_inference():
    with pytest.raises(ValueError, match="test_cfg.mode must be 'whole'"):
        build(tiny_model_cfg(test_cfg=dict(mode='slide', crop_size=(32, 32), stride=(16, 16))))


def test_neck_and_auxiliary_head():
    channels = [8, 16, 32, 64]
    neck = dict(type='FPN', in_channels=channels, out_channels=16, num_outs=4)
    aux = dict(
        type='FCNHead',
        in_channels=16,
        in_index=2,
        channels=8,
        num_convs=1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        dropout_ratio=0.0,
        loss_decode=dict(type='SigmoidBCELoss', loss_weight=0.4))
    cfg = tiny_model_cfg(neck=neck, auxiliary_head=aux, fusion='TPAVIFusion')
    cfg['fusion']['in_channels'] = [16] * 4
    cfg['decode_head']['in_channels'] = [16] * 4
    model = build(cfg)
    losses = model.loss(make_inputs(2), make_samples([1, 0]))
    assert 'aux.loss_bce' in losses and 'sim.loss_sim' in losses
    total_loss(losses).backward()
    # the similarity head reads the backbone's last stage, before the neck (64 channels)
    assert model.similarity_head.visual_channels == 64


def test_frozen_audio_backbone_gets_no_gradient_and_stays_in_eval():
    cfg = tiny_model_cfg()
    cfg['audio_backbone'] = dict(type='VGGish', frozen=True)
    cfg['fusion']['audio_channels'] = 128
    cfg['similarity_head']['audio_channels'] = 128
    model = build(cfg)
    model.train()
    assert not model.audio_backbone.training
    losses = model.loss(make_inputs(2), make_samples([1, 0]))
    total_loss(losses).backward()
    assert all(p.grad is None for p in model.audio_backbone.parameters())
    assert any(g is not None for g in grads_of(model.backbone))


def test_binary_accuracy_replaces_mmseg_argmax_accuracy():
    model = build(tiny_model_cfg())
    constant_mask_logits_(model, 8.0)  # predicts everything sounding
    losses = model.loss(make_inputs(1), make_samples([1]))
    # mask covers 32x32 of 64x64: a constant "sounding" prediction is right on 25% of pixels
    assert losses['decode.acc_seg'].item() == pytest.approx(25.0, abs=0.01)


def test_audio_visual_head_receives_the_visual_features_and_the_audio():
    model = build(av_head_cfg())
    assert model.fusion is None
    inputs = make_inputs(2)
    visual, audio = model.extract_feat(inputs)
    head_inputs = model.decode_inputs(visual, audio)
    assert head_inputs[0] is visual and head_inputs[1] is audio
    losses = model.loss(inputs, make_samples([1, 0]))
    total_loss(losses).backward()
    # the mask losses reach the audio backbone through the head's own fusion
    assert model.decode_head.audio_gate.weight.grad.abs().sum() > 0
    assert any(g is not None and g.abs().sum() > 0 for g in grads_of(model.audio_backbone))
    model.eval()
    with torch.no_grad():
        preds = model.predict(inputs, make_samples([1, 0]))
        other = model.predict(dict(inputs, audio=torch.randn(2, 96, 64)), make_samples([1, 0]))
    assert preds[0].seg_logits.data.shape == (1, 64, 64)
    assert not torch.allclose(preds[0].seg_logits.data, other[0].seg_logits.data)


def test_the_audio_meets_the_image_in_exactly_one_place():
    cfg = av_head_cfg()
    cfg['fusion'] = tiny_model_cfg()['fusion']
    with pytest.raises(ValueError, match='either in a fusion module'):
        build(cfg)
    cfg = tiny_model_cfg()
    cfg['fusion'] = None
    with pytest.raises(ValueError, match='either in a fusion module'):
        build(cfg)


def test_clip_level_audio_is_the_mean_clip_embedding():
    with pytest.raises(ValueError, match='audio_level must be one of'):
        build(tiny_model_cfg(audio_level='video'))
    model = build(tiny_model_cfg(audio_level='clip')).eval()
    assert model.needs_audio_clip and not build(tiny_model_cfg()).needs_audio_clip
    inputs = make_inputs(2)
    clip = torch.randn(2, 5, 96, 64, generator=torch.Generator().manual_seed(3))
    with pytest.raises(KeyError, match='with_clip=True'):
        model.predict(inputs, make_samples([1, 0]))
    with pytest.raises(ValueError, match='expected audio_clip'):
        model.predict(dict(inputs, audio_clip=clip[:1]), make_samples([1, 0]))
    inputs_clip = dict(inputs, audio_clip=clip)
    with torch.no_grad():
        emb = model.extract_audio(inputs_clip)
        mean_emb = model.audio_backbone(clip.flatten(0, 1)).view(2, 5, -1).mean(1)
        out = model.predict(inputs_clip, make_samples([1, 0]))
        visual = model.backbone(inputs['img'])
        expected = model.similarity_head(visual, mean_emb).sigmoid()
        # a clip whose examples all equal the frame's gives the frame-level model's output
        frame = build(tiny_model_cfg()).eval()
        frame.load_state_dict(model.state_dict())
        tied = model.predict(
            dict(inputs, audio_clip=inputs['audio'][:, None].repeat(1, 5, 1, 1)),
            make_samples([1, 0]))
        plain = frame.predict(inputs, make_samples([1, 0]))
    assert torch.allclose(emb, mean_emb)
    for i in range(2):
        assert out[i].pred_similarity.item() == pytest.approx(expected[i].item(), abs=1e-6)
        assert tied[i].pred_similarity.item() == pytest.approx(
            plain[i].pred_similarity.item(), abs=1e-5)
        assert torch.allclose(tied[i].seg_logits.data, plain[i].seg_logits.data, atol=1e-5)


def test_mask_pooled_similarity_reads_the_decoders_logits():
    """Training and inference pass the decode head's own logits to a 'mask' similarity head."""
    cfg = tiny_model_cfg()
    cfg['similarity_head'].update(pooling='mask', in_index=(2, 3), visual_channels=32 + 64)
    model = build(cfg)
    inputs = make_inputs(2)
    model.train()
    losses = model.loss(inputs, make_samples([1, 0]))
    assert {'decode.loss_bce', 'sim.loss_sim'} <= set(losses)
    model.zero_grad()
    losses['sim.loss_sim'].backward()
    assert model.similarity_head.visual_proj.weight.grad.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad is None  # the mask is detached
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, make_samples([1, 0]))
        visual, audio = model.extract_feat(inputs)
        logits = model.encode_decode(inputs, [s.metainfo for s in make_samples([1, 0])])
        expected = model.similarity_head.predict(visual, audio, logits)
        other = model.similarity_head.predict(visual, audio, -logits)
    assert torch.allclose(torch.stack([s.pred_similarity for s in out]), expected)
    assert not torch.allclose(expected, other)  # the score depends on the mask
    with pytest.raises(ValueError, match='mask_logits'):
        model.similarity_head(visual, audio)


def test_errors_name_the_problem():
    model = build(tiny_model_cfg())
    unlabeled = make_samples([1])
    del unlabeled[0].gt_sem_seg
    with pytest.raises(ValueError, match='frame_0.png has no gt_sem_seg'):
        model.loss(make_inputs(1), unlabeled)
    with pytest.raises(TypeError, match='inputs=dict'):
        model.loss(torch.randn(1, 3, 64, 64), make_samples([1]))
    cfg = tiny_model_cfg()
    cfg['decode_head'].update(out_channels=2)
    with pytest.raises(ValueError, match='one sigmoid output'):
        MODELS.build(cfg)


@pytest.mark.parametrize(
    'path',
    ['configs/_base_/models/segformer-av_mit-b0.py', 'configs/_base_/models/tpavi_r50-fpn.py'])
def test_model_configs_build(path):
    cfg = Config.fromfile(path).model
    assert cfg.data_preprocessor.type == 'AVSegDataPreProcessor'
    model = MODELS.build(cfg)
    assert model.decode_head.out_channels == 1 and model.similarity_head is not None
    model.train()
    assert not model.audio_backbone.training  # frozen VGGish


def test_tiny_config_train_step_through_the_data_preprocessor():
    model = MODELS.build(Config.fromfile('configs/_base_/models/tpavi_mit-tiny.py').model)
    model.init_weights()
    gen = torch.Generator().manual_seed(0)
    samples = make_samples([1, 0], size=60)
    data = dict(
        inputs=dict(
            img=[
                torch.randint(0, 256, (3, 60, 60), dtype=torch.uint8, generator=gen)
                for _ in range(2)
            ],
            audio=[torch.randn(96, 64, generator=gen) for _ in range(2)]),
        data_samples=samples)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    preds = model.val_step(dict(data, data_samples=make_samples([1, 0], size=60)))
    assert preds[0].seg_logits.data.shape == (1, 60, 60)
