# SynthAVS MS3-like split (several sources, a subset sounding) under AVSBench-Robust; see
# synthavs-robust_s4.py. MS3's sources change within a clip, so the audio is frame-level.
_base_ = ['./synthavs-robust_s4.py']

dataset_type = 'AVSBenchMS3Dataset'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='RandomResize', scale=_base_.img_scale, ratio_range=(1.0, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=_base_.crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=_base_.img_scale, keep_ratio=True),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='PackAVSegInputs'),
]
train_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type, pipeline=test_pipeline)))
test_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type, pipeline=test_pipeline)))
