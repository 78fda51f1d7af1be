# SynthAVS S4-like split (tools/dataset_converters/make_synth_avs.py data/SynthAVS): 224 px frames
# trained and tested at img_scale (112 px by default) for CPU work.
# Positive samples only (frame, its own audio, its mask); the AVSBench-Robust negatives are added
# by the robust dataset wrappers. Image and mask share every geometric transform; audio has none.
dataset_type = 'AVSBenchS4Dataset'
data_root = 'data/SynthAVS'
img_scale = (112, 112)
crop_size = (112, 112)
# Decoded frames, masks and log-mel clips kept in memory by each loading process: SynthAVS is
# small, and a robust evaluation reads every frame once per audio condition (about 0.35 MB per
# frame with its mask and clip; the main job's largest split, 3000 frames, needs ~1 GB).
decode_cache_size = 4096

train_pipeline = [
    dict(type='LoadAVSFrame', cache_size=decode_cache_size),
    dict(type='LoadAVSMask', cache_size=decode_cache_size),
    # with_clip: every second of the clip too, for the clip-level audio of the S4 models.
    dict(type='LoadAVSAudio', use_cache=True, with_clip=True, cache_size=decode_cache_size),
    dict(type='RandomResize', scale=img_scale, ratio_range=(1.0, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVSegInputs'),
]
# Masks are loaded after Resize, at the original size: predictions are scored at ori_shape.
test_pipeline = [
    dict(type='LoadAVSFrame', cache_size=decode_cache_size),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAVSMask', cache_size=decode_cache_size),
    dict(type='LoadAVSAudio', use_cache=True, with_clip=True, cache_size=decode_cache_size),
    dict(type='PackAVSegInputs'),
]

# num_workers=0: on a 2-core CPU machine, loader processes compete with the model's threads for
# the cores (measured: 0.31 s/iter with 0 workers, 0.73 s/iter with 1 worker); raise it on
# bigger machines.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline,
        test_mode=True))
val_evaluator = dict(type='RobustAVSMetric')
test_evaluator = dict(type='RobustAVSMetric')
