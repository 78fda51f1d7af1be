# Copyright (c) mmavs contributors. All rights reserved.
"""AVSInferencer: MMSegInferencer's call shape, the same masks as inference_model, outputs,
model names of model-index.yml; MMSeg's own inference API on an mmavs config."""
import numpy as np
import pytest
from PIL import Image

from mmavs.apis import AVSInferencer, inference_model, list_models, resolve_config
from mmavs_testing import REPO
from mmavs_testing.apis import CONFIG

S4 = 'Single-source/s4_data'


@pytest.fixture(scope='module')
def clip(tiny_synth_root):
    frames = sorted((tiny_synth_root / S4 / 'visual_frames' / 'test').glob('*/*'))[0]
    wav = tiny_synth_root / S4 / 'audio_wav' / 'test' / frames.parent.name / f'{frames.name}.wav'
    return frames, wav


def test_same_masks_and_similarity_as_inference_model(tiny_model, tiny_checkpoint, clip):
    frames, wav = clip
    inferencer = AVSInferencer(str(CONFIG), str(tiny_checkpoint))
    result = inferencer(str(frames), audio=str(wav))
    paths = sorted(frames.glob('*.png'))
    reference = inference_model(tiny_model, [str(p) for p in paths], str(wav))
    assert result['names'] == [p.stem for p in paths]
    assert len(result['predictions']) == len(reference) == 5
    for mask, sim, ref in zip(result['predictions'], result['similarity'], reference):
        assert mask.dtype == np.uint8
        assert np.array_equal(mask, ref.pred_sem_seg.data[0].numpy())
        assert sim == pytest.approx(float(ref.pred_similarity), abs=1e-6)
    assert result['visualization'] == []  # nothing drawn unless asked
    # silence changes the similarity of the same frames
    muted = inferencer(str(frames))
    assert muted['similarity'] != result['similarity']


def test_outputs_and_visualisations(tmp_path, tiny_checkpoint, clip):
    frames, wav = clip
    inferencer = AVSInferencer(str(CONFIG), str(tiny_checkpoint), gate_thr=1.0)
    one = sorted(frames.glob('*.png'))[0]
    result = inferencer(str(one), audio=str(wav), out_dir=str(tmp_path), grid=True)
    vis = result['visualization'][0]
    assert vis.ndim == 3 and vis.shape[1] > 2 * 256  # frame | mask | log-mel
    saved = np.asarray(Image.open(tmp_path / 'vis' / f'{one.stem}.png'))
    assert np.array_equal(saved, vis)
    mask = np.asarray(Image.open(tmp_path / 'pred' / f'{one.stem}.png'))
    assert mask.max() == 0  # gate 1.0 empties every mask
    samples = inferencer([np.asarray(Image.open(one))[..., ::-1]],
                         audio=str(wav),
                         return_datasamples=True,
                         return_vis=True)
    assert samples['names'] == ['frame_00000']
    assert samples['predictions'][0].metainfo['gated'] is True
    assert len(samples['visualization']) == 1


def test_model_names_resolve_through_the_model_index(tiny_checkpoint):
    models = list_models()
    name = CONFIG.stem
    assert name in models and models[name].endswith(str(CONFIG.relative_to(REPO)))
    inferencer = AVSInferencer(name, str(tiny_checkpoint))
    assert inferencer.cfg.filename == models[name]
    with pytest.raises(ValueError, match='neither a config file nor a model name'):
        resolve_config('tpavi-robust_no-such-model')
    with pytest.raises(FileNotFoundError, match='missing.py'):
        resolve_config('configs/missing.py')
    with pytest.raises(ValueError, match='local file'):
        AVSInferencer(name, 'https://example.com/w.pth')


def test_mmseg_inference_api_cannot_run_an_av_model(tiny_model):
    """Why AVSInferencer exists (docs/tools.md): MMSeg's API feeds images only."""
    from mmseg.apis import MMSegInferencer
    from mmseg.apis import inference_model as mmseg_inference_model
    frame = np.zeros((64, 64, 3), np.uint8)
    # it swaps the config's frame loader for LoadImageFromNDArray keeping its arguments, and
    # has no audio to give the model (PackAVSegInputs would need results['audio'])
    with pytest.raises(TypeError, match='LoadImageFromFile'):
        mmseg_inference_model(tiny_model, frame)
    # it reads cfg.test_dataloader.dataset.pipeline; mmavs keeps the pipeline in the dataset
    # that the robust wrapper wraps
    with pytest.raises(AttributeError, match='pipeline'):
        MMSegInferencer(str(CONFIG), device='cpu')(frame)
