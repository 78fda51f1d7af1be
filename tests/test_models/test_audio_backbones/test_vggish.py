# Copyright (c) mmavs contributors. All rights reserved.
"""VGGish backbone: torchvggish weight compatibility, strict Pretrained loading, freezing, PCA."""
import numpy as np
import pytest
import torch
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from torch import nn

from mmavs.models import VGGish
from mmavs.models.audio_backbones import VGGish as VGGishFromPackage
from mmavs.models.audio_backbones.vggish import load_vggish_pca_params, vggish_postprocess

# the keys of torchvggish's vggish-10086976.pth (conv at features.{0,3,6,8,11,13}, FCs at
# embeddings.{0,2,4}) with their shapes
TORCHVGGISH_SHAPES = {
    'features.0.weight': (64, 1, 3, 3),
    'features.0.bias': (64, ),
    'features.3.weight': (128, 64, 3, 3),
    'features.3.bias': (128, ),
    'features.6.weight': (256, 128, 3, 3),
    'features.6.bias': (256, ),
    'features.8.weight': (256, 256, 3, 3),
    'features.8.bias': (256, ),
    'features.11.weight': (512, 256, 3, 3),
    'features.11.bias': (512, ),
    'features.13.weight': (512, 512, 3, 3),
    'features.13.bias': (512, ),
    'embeddings.0.weight': (4096, 12288),
    'embeddings.0.bias': (4096, ),
    'embeddings.2.weight': (4096, 4096),
    'embeddings.2.bias': (4096, ),
    'embeddings.4.weight': (128, 4096),
    'embeddings.4.bias': (128, ),
}


@pytest.fixture(scope='module')
def torchvggish_file(tmp_path_factory):
    """A plain state dict in torchvggish's format (random weights), saved like the release."""
    torch.manual_seed(1234)  # not the seed of the per-test fixed_seed fixture
    model = VGGish(frozen=False)
    state = {key: value.clone() for key, value in model.state_dict().items()}
    path = tmp_path_factory.mktemp('weights') / 'vggish-10086976.pth'
    torch.save(state, path)
    return path, state


def test_state_dict_keys_and_shapes_are_torchvggish():
    model = VGGish()
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert shapes == TORCHVGGISH_SHAPES
    assert VGGish.out_channels == 128 and VGGishFromPackage is VGGish


def test_registered_in_mmseg_models():
    from mmseg.registry import MODELS
    model = MODELS.build(dict(type='VGGish', frozen=True))
    assert isinstance(model, VGGish)


def test_output_shape_for_both_input_layouts():
    model = VGGish()
    x = torch.randn(3, 96, 64)
    out = model(x)
    assert tuple(out.shape) == (3, 128) and out.dtype == torch.float32
    assert (out >= 0).all()  # ends with ReLU
    torch.testing.assert_close(model(x[:, None]), out)


def test_flatten_follows_tensorflow_layout():
    # torchvggish flattens features transposed to [N, H, W, C] (the TF weight layout)
    model = VGGish()
    x = torch.randn(2, 1, 96, 64)
    with torch.no_grad():
        feats = model.features(x)
        flat = torch.transpose(torch.transpose(feats, 1, 3), 1, 2).contiguous().view(2, -1)
        expected = model.embeddings(flat)
    torch.testing.assert_close(model(x), expected)


def test_rejects_wrong_input_shape():
    with pytest.raises(ValueError, match=r'found \[2, 1, 64, 96\]'):
        VGGish()(torch.randn(2, 1, 64, 96))


def test_pretrained_init_cfg_loads_the_plain_state_dict(torchvggish_file):
    path, state = torchvggish_file
    model = VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    assert not torch.equal(model.features[0].weight, state['features.0.weight'])
    model.init_weights()
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert all(not p.requires_grad for p in model.parameters())


def test_pretrained_loads_inside_a_parent_module(torchvggish_file):
    path, state = torchvggish_file

    class Parent(BaseModule):

        def __init__(self):
            super().__init__()
            self.audio = VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
            self.head = nn.Linear(128, 1)

    parent = Parent()
    parent.init_weights()
    assert torch.equal(parent.audio.embeddings[4].weight, state['embeddings.4.weight'])


def test_mmengine_load_checkpoint_is_strict_compatible(torchvggish_file):
    path, state = torchvggish_file
    model = VGGish()
    load_checkpoint(model, str(path), map_location='cpu', strict=True)
    assert torch.equal(model.features[13].bias, state['features.13.bias'])


def test_pretrained_with_wrong_shapes_names_file_and_keys(tmp_path):
    wrong = {key: torch.zeros(2, 2) for key in TORCHVGGISH_SHAPES}
    wrong_path = tmp_path / 'not_vggish.pth'
    torch.save(wrong, wrong_path)
    model = VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(wrong_path)))
    with pytest.raises(ValueError) as info:
        model.init_weights()
    message = str(info.value)
    assert str(wrong_path) in message
    assert 'features.0.weight: expected [64, 1, 3, 3], found [2, 2]' in message


def test_pretrained_with_missing_and_unexpected_keys(tmp_path):
    partial = {'features.0.weight': torch.zeros(64, 1, 3, 3), 'classifier.weight': torch.zeros(3)}
    path = tmp_path / 'partial.pth'
    torch.save({'state_dict': partial}, path)  # wrapped checkpoints are unwrapped first
    with pytest.raises(ValueError) as info:
        VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(path))).init_weights()
    message = str(info.value)
    assert 'partial.pth' in message and 'missing keys: features.0.bias' in message
    assert 'unexpected keys: classifier.weight' in message


def test_frozen_stays_in_eval_without_grad():
    model = VGGish(frozen=True)
    model.train()
    assert not model.training and not any(m.training for m in model.modules())
    assert all(not p.requires_grad for p in model.parameters())
    x = torch.randn(2, 96, 64, requires_grad=True)
    out = model(x)
    assert not out.requires_grad


def test_unfrozen_is_trainable():
    model = VGGish(frozen=False)
    model.train()
    assert model.training
    x = torch.randn(2, 96, 64)
    model(x).sum().backward()
    assert model.features[0].weight.grad is not None


def write_pca_params(path, seed=0, as_numpy=True):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(scale=0.2, size=(128, 128)).astype(np.float32)
    means = rng.normal(size=(128, )).astype(np.float32)
    if as_numpy:
        torch.save({'pca_eigen_vectors': vectors, 'pca_means': means}, path)
    else:
        torch.save(
            {
                'pca_eigen_vectors': torch.from_numpy(vectors),
                'pca_means': torch.from_numpy(means)
            }, path)
    return vectors, means


@pytest.mark.parametrize('as_numpy', [True, False])
def test_pca_params_load_from_numpy_or_tensors(tmp_path, as_numpy):
    path = tmp_path / 'pca.pth'
    vectors, means = write_pca_params(path, seed=3, as_numpy=as_numpy)
    loaded_vectors, loaded_means = load_vggish_pca_params(str(path))
    assert loaded_vectors.dtype == torch.float32 and tuple(loaded_means.shape) == (128, )
    np.testing.assert_array_equal(loaded_vectors.numpy(), vectors)
    np.testing.assert_array_equal(loaded_means.numpy(), means)


def test_postprocess_applies_pca_clip_and_quantisation(tmp_path):
    path = tmp_path / 'vggish_pca_params-970ea276.pth'
    vectors, means = write_pca_params(path)
    torch.manual_seed(1)
    post = VGGish(postprocess=True, pca_params=str(path))
    x = torch.randn(4, 96, 64)
    with torch.no_grad():
        raw = post.embed(x[:, None]).double().numpy()
    # the AudioSet release in numpy: PCA, clip to [-2, 2], 8-bit quantisation
    pca = (vectors.astype(np.float64) @ (raw.T - means[:, None].astype(np.float64))).T
    expected = np.round((np.clip(pca, -2.0, 2.0) + 2.0) * (255.0 / 4.0))
    assert 0 < (np.abs(pca) > 2).mean() < 1  # the test exercises clipping and the linear range
    out = post(x)
    assert tuple(out.shape) == (4, 128) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 255 and torch.equal(out, out.round())
    assert (np.abs(out.numpy() - expected) <= 1).all()  # float32 vs float64 rounding at .5
    assert (out.numpy() == expected).mean() > 0.99
    # the PCA buffers stay out of the state dict (the weights file stays torchvggish's)
    assert set(post.state_dict()) == set(TORCHVGGISH_SHAPES)


def test_postprocess_clips_extremes():
    emb = torch.tensor([[-10.0] * 128, [10.0] * 128, [0.0] * 128])
    out = vggish_postprocess(emb, torch.eye(128), torch.zeros(128))
    assert torch.equal(out[0], torch.zeros(128)) and torch.equal(out[1], torch.full((128, ), 255.))
    assert torch.equal(out[2], torch.full((128, ), 128.))  # round(2 * 63.75) = 128


def test_postprocess_needs_valid_pca_params(tmp_path):
    with pytest.raises(ValueError, match='pca_params'):
        VGGish(postprocess=True)
    bad = tmp_path / 'bad_pca.pth'
    torch.save({'pca_eigen_vectors': torch.zeros(64, 128), 'pca_means': torch.zeros(128)}, bad)
    with pytest.raises(ValueError, match='bad_pca.pth'):
        VGGish(postprocess=True, pca_params=str(bad))
