# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs.apis.inference: model loading, the audio of each frame, the inference pipeline."""
import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmavs.apis import inference_model, inference_pipeline_cfg, init_model
from mmavs.audio import (example_indices, frame_audio_examples, frame_clip_examples,
                         waveform_to_examples)
from mmavs.utils.checkpoint import load_checkpoint_file, read_gate_thr
from mmavs_testing.apis import CONFIG

SR = 16000


def _frames(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in shapes]


# ---------------------------------------------------------------------------- audio per frame
def test_example_indices_take_the_second_of_each_frame():
    assert example_indices([0, 0.5, 0.999, 1.0, 2.5, 7]).tolist() == [0, 0, 0, 1, 2, 7]


def test_frame_audio_is_the_training_featurisation():
    wave = np.random.default_rng(1).uniform(-0.3, 0.3, 3 * SR).astype(np.float32)
    expected = waveform_to_examples(wave, SR, num_examples=3)
    got = frame_audio_examples(wave, [0, 1, 2], sample_rate=SR)
    assert torch.equal(got, expected)
    # Two frames per second share the example of their second.
    got = frame_audio_examples(wave, [0, 0.5, 1, 1.5], sample_rate=SR)
    assert torch.equal(got, expected[[0, 0, 1, 1]])


def test_frames_beyond_the_clip_repeat_its_last_example():
    wave = np.random.default_rng(2).uniform(-0.3, 0.3, 3 * SR).astype(np.float32)
    got = frame_audio_examples(wave, [0, 3, 4], sample_rate=SR)
    last = waveform_to_examples(wave, SR, num_examples=3)[2]
    assert torch.equal(got[1], last) and torch.equal(got[2], last)


def test_clip_audio_of_each_frame():
    rng = np.random.default_rng(3)
    wave = rng.uniform(-0.3, 0.3, 5 * SR).astype(np.float32)
    whole = waveform_to_examples(wave, SR, num_examples=5)
    got = frame_clip_examples(wave, [0, 1, 2, 3, 4], sample_rate=SR)
    assert got.shape == (5, 5, 96, 64)
    assert all(torch.equal(g, whole) for g in got)  # a 5 s clip: every frame hears all of it
    long_wave = rng.uniform(-0.3, 0.3, 12 * SR).astype(np.float32)
    examples = waveform_to_examples(long_wave, SR, num_examples=12)
    got = frame_clip_examples(long_wave, [0, 6, 11], sample_rate=SR, clip_len=5)
    assert torch.equal(got[0], examples[0:5])  # shifted to stay inside the audio
    assert torch.equal(got[1], examples[4:9])  # centred on the frame's second
    assert torch.equal(got[2], examples[7:12])
    short = frame_clip_examples(wave[:2 * SR], [0, 1], sample_rate=SR)
    assert short.shape == (2, 5, 96, 64)  # padded like the training featurisation
    with pytest.raises(ValueError, match='clip_len must be >= 1'):
        frame_clip_examples(wave, [0], sample_rate=SR, clip_len=0)


def test_no_audio_is_digital_silence():
    got = frame_audio_examples(None, [0, 1, 2])
    assert got.shape == (3, 96, 64)
    assert torch.allclose(got, torch.full_like(got, math.log(0.01)))


def test_int16_and_stereo_waveforms_are_normalised_and_mixed():
    wave = np.random.default_rng(3).uniform(-0.5, 0.5, 2 * SR).astype(np.float32)
    pcm = np.round(wave * 32768).clip(-32768, 32767).astype(np.int16)
    assert torch.allclose(
        frame_audio_examples(pcm, [0, 1], SR),
        frame_audio_examples(pcm.astype(np.float32) / 32768, [0, 1], SR))
    stereo = np.stack([wave, np.zeros_like(wave)], axis=1)
    assert torch.allclose(
        frame_audio_examples(stereo, [0, 1], SR),
        frame_audio_examples(wave / 2, [0, 1], SR),
        atol=1e-5)


def test_waveform_without_sample_rate_is_an_error():
    with pytest.raises(ValueError, match='sample_rate'):
        frame_audio_examples(np.zeros(SR, np.float32), [0])


# ---------------------------------------------------------------------------- pipeline
def test_inference_pipeline_unwraps_the_robust_dataset_and_drops_file_transforms():
    pipeline = inference_pipeline_cfg(Config.fromfile(str(CONFIG)))
    names = [t['type'] for t in pipeline]
    assert names[0] == 'LoadImageFromNDArray' and names[-1] == 'PackAVSegInputs'
    assert 'Resize' in names
    for dropped in ('AddNegativeAudio', 'LoadAVSMask', 'LoadAVSAudio', 'LoadImageFromFile',
                    'LoadAVSFrame'):
        assert dropped not in names


# ---------------------------------------------------------------------------- model loading
def test_gate_threshold_precedence(tmp_path, tiny_checkpoint):
    ckpt = load_checkpoint_file(tiny_checkpoint)
    ckpt['meta']['gate_thr'] = 0.37
    path = tmp_path / 'gated.pth'
    torch.save(ckpt, path)
    assert read_gate_thr(str(path)) == pytest.approx(0.37)
    assert read_gate_thr(str(tiny_checkpoint)) is None
    assert init_model(CONFIG, str(tiny_checkpoint)).gate_thr is None
    assert init_model(CONFIG, str(path)).gate_thr == pytest.approx(0.37)
    assert init_model(CONFIG, str(path), gate_thr=0.8).gate_thr == pytest.approx(0.8)
    model = init_model(CONFIG, str(tiny_checkpoint), cfg_options={'model.gate_thr': 0.6})
    assert model.gate_thr == pytest.approx(0.6)


def test_gate_threshold_needs_a_similarity_head(tiny_checkpoint):
    with pytest.raises(ValueError, match='similarity head'):
        init_model(CONFIG, gate_thr=0.5, cfg_options={'model.similarity_head': None})
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        init_model(CONFIG, gate_thr=1.5)


def test_mismatched_or_missing_checkpoint_names_the_file(tmp_path, tiny_checkpoint):
    state = load_checkpoint_file(tiny_checkpoint)['state_dict']
    state.pop(next(iter(state)))
    path = tmp_path / 'broken.pth'
    torch.save(dict(state_dict=state), path)
    with pytest.raises(ValueError, match='broken.pth'):
        init_model(CONFIG, str(path))
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        init_model(CONFIG, str(tmp_path / 'nothere.pth'))


def test_checkpoint_weights_are_loaded(tiny_checkpoint):
    torch.manual_seed(123)  # a different random init
    model = init_model(CONFIG, str(tiny_checkpoint))
    state = load_checkpoint_file(tiny_checkpoint)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


# ---------------------------------------------------------------------------- inference
def test_predictions_have_each_frames_original_size(tiny_model):
    frames = _frames([(48, 64), (40, 40), (90, 30)])
    results = inference_model(tiny_model, frames, None)
    assert len(results) == 3
    for frame, result in zip(frames, results):
        size = frame.shape[:2]
        assert tuple(result.seg_logits.data.shape) == (1, ) + size
        assert tuple(result.pred_sem_seg.data.shape) == (1, ) + size
        assert 0.0 <= float(result.pred_similarity) <= 1.0
        assert torch.equal(result.pred_sem_seg.data, (result.seg_logits.data > 0.5).long())


def test_paths_and_arrays_give_the_same_prediction_whatever_the_batch(tmp_path, tiny_model):
    frames = _frames([(56, 56)] * 3, seed=4)
    paths = []
    for i, frame in enumerate(frames):
        paths.append(str(tmp_path / f'f{i}.png'))
        cv2.imwrite(paths[-1], frame)
    wave = np.random.default_rng(5).uniform(-0.2, 0.2, 3 * SR).astype(np.float32)
    a = inference_model(tiny_model, frames, wave, sample_rate=SR, batch_size=8)
    b = inference_model(tiny_model, paths, wave, sample_rate=SR, batch_size=1)
    for x, y in zip(a, b):
        assert torch.allclose(x.seg_logits.data, y.seg_logits.data, atol=1e-5)
        assert torch.allclose(x.pred_similarity, y.pred_similarity, atol=1e-6)
    assert [r.metainfo['audio_example'] for r in a] == [0, 1, 2]


def test_audio_changes_the_similarity_and_silence_equals_no_audio(tiny_model):
    frames = _frames([(64, 64)] * 2, seed=6)
    loud = np.random.default_rng(7).normal(0, 0.3, 2 * SR).clip(-1, 1).astype(np.float32)
    with_audio = inference_model(tiny_model, frames, loud, sample_rate=SR)
    silent = inference_model(tiny_model, frames, None)
    zeros = inference_model(tiny_model, frames, np.zeros(2 * SR, np.float32), sample_rate=SR)
    assert not torch.allclose(with_audio[0].pred_similarity, silent[0].pred_similarity)
    for s, z in zip(silent, zeros):
        assert torch.equal(s.seg_logits.data, z.seg_logits.data)


def test_gating_empties_masks_but_never_the_logits(tiny_checkpoint):
    frames = _frames([(64, 64)] * 2, seed=8)
    free = inference_model(init_model(CONFIG, str(tiny_checkpoint)), frames, None)
    gated = inference_model(init_model(CONFIG, str(tiny_checkpoint), gate_thr=1.0), frames, None)
    for f, g in zip(free, gated):
        assert torch.equal(f.seg_logits.data, g.seg_logits.data)
        assert g.metainfo['gated'] and int(g.pred_sem_seg.data.sum()) == 0
    assert sum(int(f.pred_sem_seg.data.sum()) for f in free) > 0


def test_bad_frames_are_reported(tmp_path, tiny_model):
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not a png')
    with pytest.raises(ValueError, match='broken.png'):
        inference_model(tiny_model, [str(bad)], None)
    with pytest.raises(ValueError, match='uint8'):
        inference_model(tiny_model, [np.zeros((8, 8, 3), np.float32)], None)
    with pytest.raises(ValueError, match='one time per frame'):
        inference_model(tiny_model, _frames([(8, 8)]), None, frame_times=[0, 1])


def test_clip_level_model_hears_the_whole_clip(tiny_checkpoint):

    def model_with(level):
        model = init_model(CONFIG, str(tiny_checkpoint), cfg_options={'model.audio_level': level})
        torch.manual_seed(0)  # TPAVI starts as an identity (zero residual): let the audio in
        with torch.no_grad():
            for param in model.fusion.parameters():
                param.normal_(0, 0.3)
        return model

    frame = _frames([(64, 64)], seed=9)[0]
    wave = np.random.default_rng(10).normal(0, 0.2, 5 * SR).clip(-1, 1).astype(np.float32)
    times = [0, 4]  # the same picture at the first and the last second

    def run(model):
        return inference_model(model, [frame, frame], wave, sample_rate=SR, frame_times=times)

    clip, frame_level = run(model_with('clip')), run(model_with('frame'))
    # one clip, one picture: one clip-level mask and score; frame-level ones differ by second
    assert torch.allclose(clip[0].seg_logits.data, clip[1].seg_logits.data, atol=1e-6)
    assert clip[0].pred_similarity.item() == pytest.approx(clip[1].pred_similarity.item(), abs=1e-6)
    assert not torch.allclose(frame_level[0].seg_logits.data, frame_level[1].seg_logits.data)
    assert frame_level[0].pred_similarity.item() != pytest.approx(
        frame_level[1].pred_similarity.item(), abs=1e-6)


@pytest.mark.parametrize('shape', [(30, 200), (200, 30), (20, 300)])
def test_frames_of_extreme_aspect_ratio_are_padded(tiny_model, shape):
    """Resized to 112 px on the long side, the short side (5-17 px) is below the minimum: the
    frame is padded and the prediction comes back at the frame's size."""
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, shape + (3, ), dtype=np.uint8)
    result = inference_model(tiny_model, [frame], None)[0]
    assert tuple(result.pred_sem_seg.data.shape) == (1, ) + shape
    assert tuple(result.seg_logits.data.shape) == (1, ) + shape


def test_padding_is_recorded_and_cropped():
    from mmengine.structures import BaseDataElement

    from mmavs.apis.inference import pad_to_min_size
    sample = BaseDataElement(metainfo=dict(img_shape=(17, 112)))
    packed = pad_to_min_size(dict(inputs=dict(img=torch.ones(3, 17, 112)), data_samples=sample), 32)
    img = packed['inputs']['img']
    assert tuple(img.shape) == (3, 32, 112)
    assert img[:, :17].eq(1).all() and img[:, 17:].eq(0).all()
    assert packed['data_samples'].padding_size == [0, 0, 0, 15]
    assert packed['data_samples'].pad_shape == (32, 112)
    big = dict(inputs=dict(img=torch.ones(3, 64, 64)), data_samples=BaseDataElement())
    assert pad_to_min_size(big, 32)['inputs']['img'].shape == (3, 64, 64)
    assert 'padding_size' not in pad_to_min_size(big, 32)['data_samples']


def test_a_frame_too_thin_to_resize_is_named(tiny_model):
    with pytest.raises(ValueError, match=r'cannot prepare thin\.png \(500 x 1 px\)'):
        inference_model(
            tiny_model, [np.zeros((1, 500, 3), np.uint8)], None, frame_names=['thin.png'])


def test_padded_prediction_equals_the_frame_padded_by_hand(tiny_model):
    """A 17 x 112 frame (kept by the 112 px resize) is padded to 32 rows of black: its
    probabilities are the top 17 rows of those of the frame padded with black by hand."""
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (17, 112, 3), dtype=np.uint8)
    by_hand = np.zeros((32, 112, 3), np.uint8)
    by_hand[:17] = frame
    padded, reference = inference_model(tiny_model, [frame, by_hand], None, batch_size=1)
    torch.testing.assert_close(padded.seg_logits.data, reference.seg_logits.data[:, :17])
