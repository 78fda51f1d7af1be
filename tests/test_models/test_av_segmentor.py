# Copyright (c) mmavs contributors. All rights reserved.
"""AVSegmentor with MMSeg (ResNetV1c, MiT, Swin) and MMPretrain backbones, tiny, on CPU."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

from avs_model_utils import TINY_MIT, make_inputs, make_samples, tiny_model_cfg

BACKBONES = {
    'mit': (TINY_MIT, [8, 16, 32, 64]),
    'resnet_v1c': (dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
                        out_indices=(0, 1, 2, 3)), [8, 16, 32, 64]),
    'swin': (dict(type='SwinTransformer', embed_dims=8, depths=[1, 1, 1, 1],
                  num_heads=[1, 2, 2, 4], window_size=4, out_indices=(0, 1, 2, 3)),
             [8, 16, 32, 64]),
    'mmpretrain_resnet': (dict(type='mmpretrain.ResNet', depth=18, stem_channels=8,
                               base_channels=8, out_indices=(0, 1, 2, 3)), [8, 16, 32, 64]),
}


def build(cfg):
    return MODELS.build(cfg)


def constant_mask_logits_(model, value):
    """Make the decode head predict ``value`` at every pixel."""
    with torch.no_grad():
        model.decode_head.conv_seg.weight.zero_()
        model.decode_head.conv_seg.bias.fill_(value)


def grads_of(module):
    return [p.grad for p in module.parameters() if p.requires_grad]


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_backbone_loss_backward_and_predict(name):
    backbone, channels = BACKBONES[name]
    fusion = 'TPAVIFusion' if name == 'resnet_v1c' else 'ChannelGateFusion'
    model = build(tiny_model_cfg(backbone, channels, fusion=fusion))
    inputs, samples = make_inputs(2), make_samples([1, 0])
    losses = model.loss(inputs, samples)
    assert {'decode.loss_bce', 'decode.loss_iou', 'decode.acc_seg',
            'sim.loss_sim'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
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


def test_seg_logits_are_raw_and_pred_is_thresholded():
    model = build(tiny_model_cfg()).eval()
    constant_mask_logits_(model, -3.0)  # raw logits are negative, their sigmoid is not
    with torch.no_grad():
        pred = model.predict(make_inputs(1), make_samples([1]))[0]
    logits = pred.seg_logits.data
    assert torch.allclose(logits, torch.full_like(logits, -3.0))
    assert torch.equal(pred.pred_sem_seg.data, (logits.sigmoid() > 0.5).long())


@pytest.mark.parametrize('gate_thr,emptied', [(1.01, True), (-0.01, False)])
def test_gating_empties_masks_only_below_threshold(gate_thr, emptied):
    model = build(tiny_model_cfg(gate_thr=gate_thr)).eval()
    constant_mask_logits_(model, 5.0)  # every pixel predicted sounding
    with torch.no_grad():
        preds = model.predict(make_inputs(2), make_samples([1, 0]))
    for pred in preds:
        assert pred.gate_thr == pytest.approx(gate_thr)
        assert pred.gated is emptied
        assert (pred.seg_logits.data > 0).all()  # seg_logits are never gated
        assert bool(pred.pred_sem_seg.data.any()) is not emptied


def test_gating_follows_similarity():
    model = build(tiny_model_cfg(gate_thr=0.5)).eval()
    constant_mask_logits_(model, 5.0)
    with torch.no_grad():
        preds = model.predict(make_inputs(4, seed=3), make_samples([1, 0, 1, 0]))
    for pred in preds:
        keep = pred.pred_similarity.item() >= 0.5
        assert bool(pred.pred_sem_seg.data.any()) is keep


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
    samples[0].set_metainfo(dict(ori_shape=(40, 30), img_shape=(48, 56),
                                 padding_size=[0, 8, 0, 16], flip=True,
                                 flip_direction='horizontal'))
    inputs = make_inputs(1)
    with torch.no_grad():
        pred = model.predict(inputs, samples)[0]
        full = model.predict(inputs)[0].seg_logits.data
    assert pred.seg_logits.data.shape == (1, 40, 30)
    expected = torch.nn.functional.interpolate(
        full[None, :, :48, :56].flip(-1), size=(40, 30), mode='bilinear', align_corners=False)
    assert torch.allclose(pred.seg_logits.data, expected[0], atol=1e-5)


def test_slide_inference_with_one_window_equals_whole():
    cfg = tiny_model_cfg(test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(32, 32)))
    model = build(cfg).eval()
    inputs = make_inputs(2)
    with torch.no_grad():
        slide = model.predict(inputs, make_samples([1, 0]))
        model.test_cfg = Config(dict(mode='whole'))
        whole = model.predict(inputs, make_samples([1, 0]))
    for s, w in zip(slide, whole):
        assert torch.allclose(s.seg_logits.data, w.seg_logits.data, atol=1e-5)
        assert torch.allclose(s.pred_similarity, w.pred_similarity)


def test_slide_inference_over_several_windows():
    cfg = tiny_model_cfg(test_cfg=dict(mode='slide', crop_size=(32, 32), stride=(24, 24)))
    model = build(cfg).eval()
    with torch.no_grad():
        preds = model.predict(make_inputs(1), make_samples([1]))
    assert preds[0].seg_logits.data.shape == (1, 64, 64)
    assert 0.0 <= preds[0].pred_similarity.item() <= 1.0


def test_neck_and_auxiliary_head():
    channels = [8, 16, 32, 64]
    neck = dict(type='FPN', in_channels=channels, out_channels=16, num_outs=4)
    aux = dict(type='FCNHead', in_channels=16, in_index=2, channels=8, num_convs=1,
               num_classes=2, out_channels=1, threshold=0.5, dropout_ratio=0.0,
               loss_decode=dict(type='SigmoidBCELoss', loss_weight=0.4))
    cfg = tiny_model_cfg(neck=neck, auxiliary_head=aux, fusion='TPAVIFusion')
    cfg['fusion']['in_channels'] = [16] * 4
    cfg['decode_head']['in_channels'] = [16] * 4
    model = build(cfg)
    losses = model.loss(make_inputs(2), make_samples([1, 0]))
    assert 'aux.loss_bce' in losses and 'sim.loss_sim' in losses
    sum(v for k, v in losses.items() if 'loss' in k).backward()


def test_frozen_audio_backbone_gets_no_gradient_and_stays_in_eval():
    model = build(tiny_model_cfg(freeze_audio_backbone=True))
    model.train()
    assert not model.audio_backbone.training
    losses = model.loss(make_inputs(2), make_samples([1, 0]))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None and not p.requires_grad
               for p in model.audio_backbone.parameters())


def test_binary_accuracy_replaces_mmseg_argmax_accuracy():
    model = build(tiny_model_cfg())
    constant_mask_logits_(model, 8.0)  # predicts everything sounding
    losses = model.loss(make_inputs(1), make_samples([1]))
    # mask covers 32x32 of 64x64: a constant "sounding" prediction is right on 25% of pixels
    assert losses['decode.acc_seg'].item() == pytest.approx(25.0, abs=0.01)


def test_errors_name_the_problem():
    model = build(tiny_model_cfg())
    unlabeled = make_samples([1])
    del unlabeled[0].gt_sem_seg
    with pytest.raises(ValueError, match='frame_0.png has no gt_sem_seg'):
        model.loss(make_inputs(1), unlabeled)
    with pytest.raises(TypeError, match='inputs=dict'):
        model.loss(torch.randn(1, 3, 64, 64), make_samples([1]))
    with pytest.raises(ValueError, match='gate_thr needs a similarity_head'):
        MODELS.build(tiny_model_cfg(similarity=False, gate_thr=0.5))
    cfg = tiny_model_cfg()
    cfg['decode_head'].update(out_channels=2)
    with pytest.raises(ValueError, match='one sigmoid output'):
        MODELS.build(cfg)


@pytest.mark.parametrize('path', ['configs/_base_/models/avs_segformer_mit.py',
                                  'configs/_base_/models/avs_resnet_fpn.py'])
def test_model_configs_build(path):
    cfg = Config.fromfile(path).model
    assert cfg.data_preprocessor.type == 'AVSegDataPreProcessor'
    model = MODELS.build(cfg)
    assert model.decode_head.out_channels == 1 and model.similarity_head is not None
    assert not any(p.requires_grad for p in model.audio_backbone.parameters())


def test_tiny_config_train_step_through_the_data_preprocessor():
    model = MODELS.build(Config.fromfile('configs/_base_/models/avs_tiny_cpu.py').model)
    model.init_weights()
    gen = torch.Generator().manual_seed(0)
    samples = make_samples([1, 0], size=60)
    data = dict(inputs=dict(img=[torch.randint(0, 256, (3, 60, 60), dtype=torch.uint8,
                                               generator=gen) for _ in range(2)],
                            audio=[torch.randn(96, 64, generator=gen) for _ in range(2)]),
                data_samples=samples)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    preds = model.val_step(dict(data, data_samples=make_samples([1, 0], size=60)))
    assert preds[0].seg_logits.data.shape == (1, 60, 60)


def test_soft_gate_logits_are_the_logit_of_the_product():
    from mmavs.models.segmentors.gating import soft_gate_logits
    mask = torch.tensor([-30.0, -2.0, 0.0, 3.0, 12.0]).reshape(1, 1, 1, 5).repeat(3, 1, 1, 1)
    sim = torch.tensor([-40.0, 0.0, 5.0])
    out = soft_gate_logits(mask, sim)
    ref = torch.logit(mask.double().sigmoid() * sim.double().sigmoid().reshape(-1, 1, 1, 1))
    assert out.shape == mask.shape and torch.isfinite(out).all()
    assert torch.allclose(out.double(), ref, atol=1e-4, rtol=1e-4)
    # a confident match leaves the mask as it is; no match empties it
    assert torch.allclose(soft_gate_logits(mask, torch.tensor([30.0, 30.0, 30.0])), mask,
                          atol=1e-4)
    assert (soft_gate_logits(mask.abs() + 5, torch.tensor([-30.0] * 3)) < -20).all()


def test_soft_gate_in_training_and_inference():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match='soft_gate needs a similarity_head'):
        build(tiny_model_cfg(similarity=False, soft_gate=True))
    model = build(tiny_model_cfg(soft_gate=True)).eval()
    plain = build(tiny_model_cfg()).eval()
    plain.load_state_dict(model.state_dict())
    inputs, samples = make_inputs(2), make_samples([1, 0])
    with torch.no_grad():
        gated, raw = model.predict(inputs, samples), plain.predict(inputs, make_samples([1, 0]))
    for g, r in zip(gated, raw):
        assert g.pred_similarity.item() == pytest.approx(r.pred_similarity.item(), abs=1e-6)
        p = r.seg_logits.data.sigmoid() * r.pred_similarity
        assert torch.allclose(g.seg_logits.data.sigmoid(), p, atol=1e-5)
    with torch.no_grad():
        tensor_out = model._forward(inputs)
    assert tensor_out.shape[:2] == (2, 1)
    # training: the mask losses see the soft-gated logits and reach the similarity head
    model.train()
    losses = model.loss(inputs, make_samples([1, 0]))
    model.zero_grad()
    (losses['decode.loss_bce'] + losses['decode.loss_iou']).backward()
    assert model.similarity_head.audio_proj.weight.grad.abs().sum() > 0
    plain.train()
    plain_losses = plain.loss(inputs, make_samples([1, 0]))
    plain.zero_grad()
    (plain_losses['decode.loss_bce'] + plain_losses['decode.loss_iou']).backward()
    assert plain.similarity_head.audio_proj.weight.grad is None


def test_clip_level_similarity_scores_the_mean_clip_embedding():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match='similarity_audio must be one of'):
        build(tiny_model_cfg(similarity_audio='video'))
    # without a similarity head the option is moot (a baseline inherits it): frame audio only
    headless = build(tiny_model_cfg(similarity=False, similarity_audio='clip')).eval()
    assert headless.similarity_audio is None and not headless.needs_audio_clip
    with torch.no_grad():
        assert headless.predict(make_inputs(2), make_samples([1, 0]))[0].seg_logits is not None
    model = build(tiny_model_cfg(similarity_audio='clip')).eval()
    frame = build(tiny_model_cfg()).eval()
    frame.load_state_dict(model.state_dict())
    inputs = make_inputs(2)
    clip = torch.randn(2, 5, 96, 64, generator=torch.Generator().manual_seed(3))
    with pytest.raises(KeyError, match='with_clip=True'):
        model.predict(inputs, make_samples([1, 0]))
    inputs_clip = dict(inputs, audio_clip=clip)
    with torch.no_grad():
        out = model.predict(inputs_clip, make_samples([1, 0]))
        plain = frame.predict(inputs_clip, make_samples([1, 0]))
        visual = model.extract_visual(inputs['img'])
        mean_emb = model.audio_backbone(clip.flatten(0, 1)).view(2, 5, -1).mean(1)
        expected = model.similarity_head(visual, mean_emb).sigmoid()
    for i in range(2):
        # the mask still hears the frame's own example; only the similarity hears the clip
        assert torch.equal(out[i].seg_logits.data, plain[i].seg_logits.data)
        assert out[i].pred_similarity.item() == pytest.approx(expected[i].item(), abs=1e-6)
    assert not torch.allclose(torch.stack([o.pred_similarity for o in out]),
                              torch.stack([p.pred_similarity for p in plain]))
    # a clip whose examples all equal the frame's gives the frame-level score
    same = dict(inputs, audio_clip=inputs['audio'][:, None].repeat(1, 5, 1, 1))
    with torch.no_grad():
        tied = model.predict(same, make_samples([1, 0]))
    for t, p in zip(tied, plain):
        assert t.pred_similarity.item() == pytest.approx(p.pred_similarity.item(), abs=1e-5)
    with pytest.raises(ValueError, match='expected audio_clip'):
        model.predict(dict(inputs, audio_clip=clip[:1]), make_samples([1, 0]))
    # training: the similarity loss reaches the audio backbone through the clip examples
    model.train()
    losses = model.loss(inputs_clip, make_samples([1, 0]))
    model.zero_grad()
    losses['sim.loss_sim'].backward()
    assert any(g is not None and g.abs().sum() > 0 for g in grads_of(model.audio_backbone))
    # slide inference passes the clip to every crop
    model.eval()
    model.test_cfg = Config(dict(mode='slide', crop_size=(48, 48), stride=(16, 16)))
    with torch.no_grad():
        slid = model.predict(inputs_clip, make_samples([1, 0]))
    assert all(0 <= s.pred_similarity.item() <= 1 for s in slid)


def test_extra_clip_frames_train_the_similarity_only():
    torch.manual_seed(0)
    model = build(tiny_model_cfg(similarity_audio='clip', fusion_audio='clip'))
    gen = torch.Generator().manual_seed(5)
    inputs = dict(make_inputs(2), audio_clip=torch.randn(2, 5, 96, 64, generator=gen))
    extra = torch.randn(2, 3, 64, 64, generator=gen)
    plain = model.loss(inputs, make_samples([1, 0]))
    losses = model.loss(dict(inputs, img_extra=extra), make_samples([1, 0]))
    # the mask losses see the annotated frames only (the backbone batch holds both)
    for key in ('decode.loss_bce', 'decode.loss_iou'):
        assert losses[key].item() == pytest.approx(plain[key].item(), rel=1e-4), key
    assert losses['sim.loss_sim'].item() != pytest.approx(plain['sim.loss_sim'].item(), rel=1e-4)
    # the extra frames' similarity loss trains the visual backbone through them
    model.zero_grad()
    visual, audio_emb, _ = model.forward_features(inputs)
    extra_visual = model.extract_visual(extra)
    with torch.no_grad():
        expected = model.similarity_head.loss(visual, audio_emb, make_samples([1, 0]),
                                              extra_visual_feats=extra_visual)['loss_sim']
    assert losses['sim.loss_sim'].item() == pytest.approx(expected.item(), rel=1e-4)
    watched = extra.clone().requires_grad_()
    losses = model.loss(dict(inputs, img_extra=watched), make_samples([1, 0]))
    (losses['decode.loss_bce'] + losses['decode.loss_iou']).backward(retain_graph=True)
    assert watched.grad is None or watched.grad.abs().sum() == 0
    losses['sim.loss_sim'].backward()
    assert watched.grad.abs().sum() > 0
    # frame-level similarity audio cannot pair the extra frame with its own second
    frame_level = build(tiny_model_cfg())
    with pytest.raises(ValueError, match="similarity_audio='clip'"):
        frame_level.loss(dict(inputs, img_extra=extra), make_samples([1, 0]))
    with pytest.raises(ValueError, match='img_extra'):
        model.loss(dict(inputs, img_extra=extra[:, :, :32]), make_samples([1, 0]))


def test_mask_pooled_similarity_reads_the_decoders_logits():
    """Training and inference pass the decode head's own logits to a 'mask' similarity head."""
    torch.manual_seed(0)
    cfg = tiny_model_cfg()
    cfg['similarity_head'].update(pooling='mask', in_index=(2, 3), visual_channels=32 + 64)
    model = build(cfg)
    assert model.similarity_needs_mask and not build(tiny_model_cfg()).similarity_needs_mask
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
        visual, audio_emb, _ = model.forward_features(inputs)
    assert all(0.0 <= s.pred_similarity.item() <= 1.0 for s in out)
    with pytest.raises(ValueError, match='mask_logits'):
        model.similarity_head(visual, audio_emb)
