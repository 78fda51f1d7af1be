# Copyright (c) mmavs contributors. All rights reserved.
"""load_audio: formats, channels, rates, real recordings, and errors that name the file."""
import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from mmavs.audio import AudioLoadError, load_audio, waveform_to_examples

# (subtype, quantisation step of the stored samples)
SUBTYPES = [('PCM_U8', 2.0**-7), ('PCM_16', 2.0**-15), ('PCM_24', 2.0**-23), ('PCM_32', 2.0**-31),
            ('FLOAT', 1e-7), ('DOUBLE', 1e-7)]


def make_signal(num_samples=1600, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.9, 0.9, (num_samples, channels))


@pytest.mark.parametrize('subtype, step', SUBTYPES)
@pytest.mark.parametrize('channels', [1, 2, 3])
def test_reads_every_bit_depth_and_channel_count(tmp_path, subtype, step, channels):
    data = make_signal(channels=channels, seed=channels)
    path = tmp_path / f'clip_{subtype}_{channels}.wav'
    sf.write(path, data, 16000, subtype=subtype)
    wave, sr = load_audio(path)
    assert sr == 16000
    assert wave.dtype == np.float32 and wave.ndim == 1 and wave.shape[0] == data.shape[0]
    assert wave.flags['C_CONTIGUOUS']
    np.testing.assert_allclose(wave, data.mean(axis=1), atol=step + 1e-6)
    assert np.abs(wave).max() <= 1.0


def test_sixteen_bit_scaling_matches_vggish_reference(tmp_path):
    # the reference reads int16 and divides by 32768
    ints = np.array([-32768, -1, 0, 1, 16384, 32767], dtype=np.int16)
    path = tmp_path / 'ints.wav'
    sf.write(path, ints, 16000, subtype='PCM_16')
    wave, _ = load_audio(path)
    np.testing.assert_array_equal(wave, ints.astype(np.float32) / 32768.0)


@pytest.mark.parametrize('rate', [8000, 22050, 44100, 48000])
def test_resamples_to_target_rate_with_soxr(tmp_path, rate):
    data = make_signal(num_samples=rate // 2, channels=2, seed=rate) * 0.5
    path = tmp_path / f'clip_{rate}.wav'
    sf.write(path, data, rate, subtype='FLOAT')
    wave, sr = load_audio(path)
    assert sr == 16000 and wave.shape[0] == 8000
    expected = soxr.resample(data.mean(axis=1).astype(np.float32), rate, 16000, quality='VHQ')
    np.testing.assert_allclose(wave, expected, atol=1e-6)


def test_target_sr_none_keeps_file_rate(tmp_path):
    path = tmp_path / 'keep.wav'
    sf.write(path, make_signal(num_samples=2205), 22050)
    wave, sr = load_audio(path, target_sr=None)
    assert sr == 22050 and wave.shape[0] == 2205


def test_float_files_are_clipped_to_unit_range(tmp_path):
    path = tmp_path / 'loud.wav'
    sf.write(path, np.array([0.0, 1.5, -2.0, 0.25]), 16000, subtype='FLOAT')
    wave, _ = load_audio(path)
    np.testing.assert_array_equal(wave, np.array([0.0, 1.0, -1.0, 0.25], np.float32))


def test_reads_flac(tmp_path):
    data = make_signal(num_samples=4000, channels=2)
    path = tmp_path / 'clip.flac'
    sf.write(path, data, 16000, subtype='PCM_16')
    wave, _ = load_audio(path)
    np.testing.assert_allclose(wave, data.mean(axis=1), atol=2.0**-15 + 1e-6)


def test_real_recordings_give_five_finite_examples(unseen_audio_files):
    rates = set()
    for path in unseen_audio_files:
        rates.add(sf.info(str(path)).samplerate)
        wave, sr = load_audio(path)
        assert sr == 16000 and wave.dtype == np.float32
        assert abs(wave.shape[0] - 80000) <= 1, path.name
        assert np.abs(wave).max() <= 1.0 and np.abs(wave).max() > 1e-3, path.name
        examples = waveform_to_examples(wave, sr, num_examples=5)
        assert tuple(examples.shape) == (5, 96, 64), path.name
        assert torch.isfinite(examples).all(), path.name
        # real sound: not the silence floor everywhere
        assert float(examples.max()) > -2.0, path.name
    assert len(rates) >= 2  # several native rates were resampled


def test_missing_file_names_it(tmp_path):
    path = tmp_path / 'nope.wav'
    with pytest.raises(AudioLoadError, match='not found.*nope.wav'):
        load_audio(path)


def test_empty_file_names_it(tmp_path):
    path = tmp_path / 'empty.wav'
    path.write_bytes(b'')
    with pytest.raises(AudioLoadError, match='empty.*empty.wav'):
        load_audio(path)


def test_corrupt_file_names_it(tmp_path):
    path = tmp_path / 'corrupt.wav'
    path.write_bytes(b'RIFF\x10\x00\x00\x00WAVEjunk' + bytes(range(200)))
    with pytest.raises(AudioLoadError, match='corrupt.wav'):
        load_audio(path)


def test_zero_length_file_names_it(tmp_path):
    path = tmp_path / 'zero.wav'
    sf.write(path, np.zeros((0, 2)), 16000, subtype='PCM_16')
    with pytest.raises(AudioLoadError, match='zero length.*zero.wav'):
        load_audio(path)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_samples_name_the_file(tmp_path, bad):
    data = np.zeros(100, dtype=np.float32)
    data[10] = bad
    path = tmp_path / 'nonfinite.wav'
    sf.write(path, data, 16000, subtype='FLOAT')
    with pytest.raises(AudioLoadError, match='non-finite.*nonfinite.wav'):
        load_audio(path)


def test_directory_is_refused(tmp_path):
    with pytest.raises(AudioLoadError, match=str(tmp_path.name)):
        load_audio(tmp_path)


def test_audio_load_error_is_a_value_error():
    assert issubclass(AudioLoadError, ValueError)
