# Copyright (c) mmavs contributors. All rights reserved.
"""Byte-reproducible wavs and log-mel pickles (mmavs.audio.writing)."""
import pickle
import subprocess
import sys

import numpy as np
import soundfile as sf
import torch

from mmavs.audio import load_audio
from mmavs.audio.writing import (pcm16_wav_bytes, quantize_pcm16, tensor_pickle_bytes,
                                 write_pcm16_wav)


def test_wav_is_canonical_pcm16_and_reads_back_exactly(tmp_path):
    wave = np.random.default_rng(0).uniform(-1.2, 1.2, 16000).astype(np.float32)
    path = write_pcm16_wav(tmp_path / 'a.wav', wave)
    data = path.read_bytes()
    assert len(data) == 44 + 2 * 16000 and data[:4] == b'RIFF' and data[8:16] == b'WAVEfmt '
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, 'PCM_16',
                                                                           16000)
    loaded, sr = load_audio(path)
    q = quantize_pcm16(wave)
    assert sr == 16000 and np.array_equal(loaded, q.astype(np.float32) / 32768)
    assert q.max() == 32767 and q.min() == -32768  # clipped, not wrapped
    # a waveform that is already 16-bit round-trips without loss
    again, _ = load_audio(write_pcm16_wav(tmp_path / 'b.wav', loaded))
    assert np.array_equal(again, loaded)


def test_wav_bytes_depend_only_on_the_samples():
    wave = np.linspace(-0.5, 0.5, 1000)
    assert pcm16_wav_bytes(wave) == pcm16_wav_bytes(wave.astype(np.float32).copy())
    assert pcm16_wav_bytes(wave) != pcm16_wav_bytes(wave[::-1])


def test_tensor_pickle_is_reproducible_and_loads_as_a_tensor():
    tensor = torch.randn(5, 1, 96, 64)
    data = tensor_pickle_bytes(tensor)
    assert data == tensor_pickle_bytes(tensor.clone())  # pickle.dumps(tensor) is not
    assert data != tensor_pickle_bytes(tensor + 1)
    loaded = pickle.loads(data)
    assert isinstance(loaded, torch.Tensor) and loaded.dtype == torch.float32
    assert torch.equal(loaded, tensor) and loaded.is_contiguous()
    loaded.add_(1)  # writable: AVSBench's loader may modify it
    assert torch.equal(loaded.detach(), tensor + 1)


def test_tensor_pickle_is_the_same_in_another_process_and_loads_without_warnings(tmp_path):
    tensor = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 7
    path = tmp_path / 'mine.pkl'
    path.write_bytes(tensor_pickle_bytes(tensor))
    same = ('import torch\n'
            'from mmavs.audio.writing import tensor_pickle_bytes\n'
            'data = tensor_pickle_bytes(torch.arange(24.).reshape(2, 3, 4) / 7)\n'
            f'print(data == open({str(path)!r}, "rb").read())\n')
    out = subprocess.run([sys.executable, '-c', same], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == 'True'
    # AVSBench's loader: pickle.load and .detach(), with nothing of mmavs imported
    load = ('import pickle\n'
            f't = pickle.load(open({str(path)!r}, "rb")).detach()\n'
            'print(type(t).__name__, t.dtype, list(t.shape))\n')
    out = subprocess.run([sys.executable, '-W', 'error', '-c', load],
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == 'Tensor torch.float32 [2, 3, 4]'
