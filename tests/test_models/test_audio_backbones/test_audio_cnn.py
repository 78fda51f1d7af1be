# Copyright (c) mmavs contributors. All rights reserved.
"""AudioCNN: the small trainable audio backbone for CPU work."""
import pytest
import torch

from mmavs.models import AudioCNN


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def test_output_shape_and_both_input_layouts():
    model = AudioCNN().eval()
    x = torch.randn(3, 96, 64)
    out = model(x)
    assert tuple(out.shape) == (3, 128)
    torch.testing.assert_close(model(x[:, None]), out)


def test_default_size_is_a_few_hundred_thousand_parameters():
    assert 150_000 <= num_params(AudioCNN()) <= 600_000


@pytest.mark.parametrize('base_channels, out_channels', [(8, 32), (16, 64), (48, 256)])
def test_width_and_output_size_are_configurable(base_channels, out_channels):
    model = AudioCNN(base_channels=base_channels, out_channels=out_channels)
    assert model.out_channels == out_channels
    assert tuple(model(torch.randn(2, 1, 96, 64)).shape) == (2, out_channels)
    assert model.stages[0][0].out_channels == base_channels


def test_parameter_count_grows_with_width():
    assert num_params(AudioCNN(base_channels=16)) < num_params(AudioCNN(base_channels=32))


def test_trains_with_batchnorm_and_gradients():
    model = AudioCNN(base_channels=8)
    model.init_weights()
    model.train()
    bn = model.stages[0][1]
    before = bn.running_mean.clone()
    out = model(torch.randn(4, 96, 64) * 3 + 1)
    out.pow(2).mean().backward()
    assert not torch.equal(bn.running_mean, before)  # BN statistics updated in train mode
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_registered_in_mmseg_models():
    from mmseg.registry import MODELS
    model = MODELS.build(dict(type='AudioCNN', base_channels=8, out_channels=16))
    assert isinstance(model, AudioCNN) and model.out_channels == 16


def test_rejects_wrong_input_shape_and_bad_widths():
    with pytest.raises(ValueError, match=r'found \[2, 3, 96, 64\]'):
        AudioCNN()(torch.randn(2, 3, 96, 64))
    with pytest.raises(ValueError, match='base_channels'):
        AudioCNN(base_channels=0)


def test_time_pooling_keeps_the_frequency_bands():
    """'time' pooling: the embedding depends on where in the spectrum a pattern is."""
    torch.manual_seed(0)
    model = AudioCNN(base_channels=4, out_channels=6, pooling='time')
    assert model.fc.in_features == 4 * 4 * 4
    model.eval()
    assert model(torch.randn(3, 96, 64)).shape == (3, 6)
    low, high = torch.full((1, 96, 64), -4.6), torch.full((1, 96, 64), -4.6)
    low[..., :16] = 2.0
    high[..., 48:] = 2.0
    with torch.no_grad():
        assert not torch.allclose(model(low), model(high), atol=1e-3)
    with pytest.raises(ValueError, match='pooling'):
        AudioCNN(pooling='freq')
