# Copyright (c) mmavs contributors. All rights reserved.
"""Similarity head: the authors' raw cosine, the learnable scaled cosine, its BCE training."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmavs.models.heads import SimilarityHead


def samples(labels):
    return [
        SegDataSample(metainfo=dict(img_path=f'f{i}.png', is_sounding=label))
        for i, label in enumerate(labels)
    ]


def test_fixed_unit_scale_reproduces_sigmoid_of_raw_cosine():
    head = MODELS.build(
        dict(
            type='SimilarityHead',
            visual_channels=12,
            audio_channels=5,
            embed_dims=12,
            project_visual=False,
            scale=1.0,
            bias=0.0,
            learnable=False))
    visual = (torch.randn(3, 4, 8, 8), torch.randn(3, 12, 2, 2))
    audio = torch.randn(3, 5)
    cos = F.cosine_similarity(head.audio_proj(audio), visual[-1].mean(dim=(2, 3)), dim=1)
    assert torch.allclose(head.predict(visual, audio), torch.sigmoid(cos), atol=1e-6)
    assert not any(p is head.log_scale or p is head.bias for p in head.parameters())
    # bounded: sigmoid(cos) in [sigmoid(-1), sigmoid(1)] whatever the inputs
    probs = head.predict((torch.randn(64, 12, 1, 1) * 100, ), torch.randn(64, 5) * 100)
    assert probs.min() >= torch.sigmoid(torch.tensor(-1.0)) - 1e-6
    assert probs.max() <= torch.sigmoid(torch.tensor(1.0)) + 1e-6


def test_learnable_scale_and_bias_are_parameters_with_their_initial_values():
    head = MODELS.build(
        dict(
            type='SimilarityHead',
            visual_channels=12,
            audio_channels=5,
            embed_dims=8,
            scale=10.0,
            bias=-2.0))
    names = {name for name, _ in head.named_parameters()}
    assert {'log_scale', 'bias'} <= names
    assert head.scale.item() == pytest.approx(10.0)
    visual, audio = torch.randn(4, 12, 3, 3), torch.randn(4, 5)
    cos = F.cosine_similarity(
        head.audio_proj(audio), head.visual_proj(visual.mean(dim=(2, 3))), dim=1)
    assert torch.allclose(head(visual, audio), 10.0 * cos - 2.0, atol=1e-5)
    with torch.no_grad():
        head.log_scale.fill_(math.log(1e4))
    assert head.scale.item() == pytest.approx(100.0)  # clamped at max_scale


def test_loss_is_weighted_bce_against_is_sounding():
    head = MODELS.build(
        dict(
            type='SimilarityHead',
            visual_channels=6,
            audio_channels=5,
            embed_dims=4,
            loss_weight=0.5))
    visual, audio = torch.randn(4, 6, 2, 2), torch.randn(4, 5)
    labels = [1, 0, 1, 0]
    losses = head.loss(visual, audio, samples(labels))
    expected = F.binary_cross_entropy_with_logits(
        head(visual, audio), torch.tensor(labels, dtype=torch.float32))
    assert losses['loss_sim'].item() == pytest.approx(0.5 * expected.item(), rel=1e-5)
    assert 0.0 <= losses['acc_sim'].item() <= 100.0


def test_training_separates_positives_from_negatives():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='SimilarityHead', visual_channels=8, audio_channels=8, embed_dims=8))
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(60):
        visual = torch.randn(16, 8)
        labels = torch.arange(16) % 2
        audio = torch.where(labels[:, None] == 1, visual + 0.1 * torch.randn(16, 8),
                            torch.randn(16, 8))
        loss = head.loss(visual, audio, samples(labels.tolist()))['loss_sim']
        opt.zero_grad()
        loss.backward()
        opt.step()
    visual = torch.randn(200, 8)
    pos = head.predict(visual, visual + 0.1 * torch.randn(200, 8))
    neg = head.predict(visual, torch.randn(200, 8))
    assert pos.mean() - neg.mean() > 0.4


def test_errors_name_the_problem():
    head = MODELS.build(
        dict(type='SimilarityHead', visual_channels=6, audio_channels=5, embed_dims=4))
    with pytest.raises(KeyError, match='f0.png'):
        head.loss(
            torch.randn(1, 6), torch.randn(1, 5), [SegDataSample(metainfo=dict(img_path='f0.png'))])
    with pytest.raises(ValueError, match='visual_channels'):
        head(torch.randn(1, 7, 2, 2), torch.randn(1, 5))
    with pytest.raises(ValueError, match='embed_dims must equal'):
        MODELS.build(
            dict(type='SimilarityHead', visual_channels=6, embed_dims=4, project_visual=False))


def test_unknown_pooling_is_refused():
    for pooling in ('median', 'max'):
        with pytest.raises(ValueError, match='pooling'):
            SimilarityHead(visual_channels=4, pooling=pooling)


def av_samples(specs):
    """Samples from ``(video_id, category, is_sounding)`` triples."""
    return [
        SegDataSample(
            metainfo=dict(img_path=f'{vid}_{i}.png', video_id=vid, category=cat, is_sounding=label))
        for i, (vid, cat, label) in enumerate(specs)
    ]


def test_in_batch_pairs_are_positives_of_other_categories_and_videos():
    from mmavs.models.heads.similarity_head import in_batch_negative_pairs
    batch = av_samples([
        ('v0', 'guitar', 1),
        ('v1', 'piano', 1),  # the same coarse group as the guitar, another category
        ('v2', 'guitar', 1),  # the guitar's category, another video
        ('v3', 'siren', 0),  # a frame heard with a negative audio
        ('v1', 'piano', 0),  # the silence negative of v1
        ('v4', 'multi', 1),  # MS3: no category
    ])
    pairs = in_batch_negative_pairs(batch)
    assert pairs.dtype == torch.bool and pairs.shape == (6, 6)
    assert not pairs.diagonal().any()
    assert pairs[0, 1] and pairs[1, 0]  # other category: a negative pair
    assert not pairs[0, 2] and not pairs[2, 0]  # same category
    # audios of negatives (columns 3, 4) and of MS3's 'multi' never form pairs
    assert not pairs[:, 3].any() and not pairs[:, 4].any() and not pairs[:, 5].any()
    assert not pairs[5].any()
    assert pairs[3, 0] and pairs[3, 1] and pairs[3, 2]  # any positive of another category
    # a frame never pairs with its own video's audio, even as a negative sample
    assert not pairs[4, 1] and pairs[4, 0]


def test_in_batch_negatives_add_their_mean_bce_and_train_the_pairs():
    torch.manual_seed(0)
    batch = av_samples([('v0', 'guitar', 1), ('v1', 'dog', 1), ('v2', 'siren', 1),
                        ('v3', 'piano', 0)])
    visual, audio = torch.randn(4, 6, 2, 2), torch.randn(4, 5)
    plain = SimilarityHead(visual_channels=6, audio_channels=5, embed_dims=4)
    head = SimilarityHead(
        visual_channels=6,
        audio_channels=5,
        embed_dims=4,
        in_batch_negatives=True,
        in_batch_weight=0.5)
    head.load_state_dict(plain.state_dict())
    # the pairwise matrix's diagonal is the ordinary forward
    assert torch.allclose(head.pairwise(visual, audio).diagonal(), head(visual, audio), atol=1e-5)
    losses, reference = head.loss(visual, audio, batch), plain.loss(visual, audio, batch)
    assert losses['loss_sim'].item() == pytest.approx(reference['loss_sim'].item(), rel=1e-5)
    from mmavs.models.heads.similarity_head import in_batch_negative_pairs
    pairs = in_batch_negative_pairs(batch)
    negatives = head.pairwise(visual, audio)[pairs]
    expected = F.binary_cross_entropy_with_logits(negatives, torch.zeros_like(negatives))
    assert losses['loss_sim_in_batch'].item() == pytest.approx(0.5 * expected.item(), rel=1e-5)
    assert 'loss_sim_in_batch' not in reference
    # gradients reach both projections through the pairs
    head.zero_grad()
    losses['loss_sim_in_batch'].backward()
    assert head.audio_proj.weight.grad.abs().sum() > 0
    assert head.visual_proj.weight.grad.abs().sum() > 0
    # a batch without any pair: a zero loss that keeps the graph, accuracy 100
    lonely = head.loss(visual[:1], audio[:1], batch[:1])
    assert lonely['loss_sim_in_batch'].item() == 0.0
    assert lonely['loss_sim_in_batch'].requires_grad
    assert lonely['acc_sim_in_batch'].item() == 100.0


def test_mask_pooling_scores_the_object_under_the_decoders_mask():
    """'mask' pools where the decoder segments: a small object that sounds is not averaged
    away by a large silent one; stages are pooled each and concatenated."""
    from mmavs.models.heads.similarity_head import mask_pool
    head = SimilarityHead(
        visual_channels=4,
        audio_channels=4,
        embed_dims=4,
        project_visual=False,
        scale=1.0,
        bias=0.0,
        learnable=False,
        pooling='mask')
    with torch.no_grad():
        head.audio_proj.weight.copy_(torch.eye(4))
        head.audio_proj.bias.zero_()
    visual = torch.zeros(1, 4, 4, 4)
    visual[0, 1] = 1.0  # a large silent object everywhere ...
    visual[0, :, :2, :2] = torch.tensor([1.0, 0.0, 0.0, 0.0]).view(4, 1, 1)  # ... and the source
    audio = torch.tensor([[2.0, 0.0, 0.0, 0.0]])
    mask = torch.full((1, 1, 8, 8), -20.0)
    mask[..., :4, :4] = 20.0  # the decoder segments the source (8x8 logits, area-pooled to 4x4)
    assert head(visual, audio, mask).item() == pytest.approx(1.0, abs=1e-4)
    avg = SimilarityHead(
        visual_channels=4,
        audio_channels=4,
        embed_dims=4,
        project_visual=False,
        scale=1.0,
        bias=0.0,
        learnable=False)
    avg.load_state_dict(head.state_dict())
    assert avg(visual, audio).item() < 0.5
    # an all-zero mask still gives a finite pool (the weights are normalised)
    assert torch.isfinite(mask_pool(visual, torch.zeros(1, 1, 4, 4))).all()
    with pytest.raises(ValueError, match='mask_logits'):
        head(visual, audio)
    with pytest.raises(ValueError, match='mask probabilities'):
        mask_pool(visual, torch.zeros(1, 4, 4))
    # two stages, pooled each and concatenated; the gradient does not reach the mask
    multi = SimilarityHead(
        visual_channels=6, audio_channels=4, embed_dims=4, pooling='mask', in_index=(1, 2))
    feats = [torch.randn(2, 2, 8, 8), torch.randn(2, 2, 8, 8), torch.randn(2, 4, 4, 4)]
    mask = torch.randn(2, 1, 16, 16, requires_grad=True)
    probs = mask.detach().sigmoid()
    expected = torch.cat([mask_pool(feats[1], probs), mask_pool(feats[2], probs)], dim=1)
    assert torch.allclose(multi.pool_visual(feats, mask), expected)
    losses = multi.loss(feats, torch.randn(2, 4), samples([1, 0]), mask_logits=mask)
    losses['loss_sim'].backward()
    assert mask.grad is None
    with pytest.raises(ValueError, match='channels'):
        SimilarityHead(
            visual_channels=5, audio_channels=4, embed_dims=4, in_index=(1, 2)).pool_visual(feats)
