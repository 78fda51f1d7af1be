# SynthAVS S4-like split (tools/dataset_converters/make_synth_avs.py data/SynthAVS) under
# AVSBench-Robust (docs/robust.md), with the AVSBench S4 streams of avsbench-robust_s4.py: the
# balanced training stream (90 % positives + 5 % off-screen + 5 % silence, noise held out) and each
# val/test split replicated once per audio condition. 224 px frames, trained and tested at 112 px
# for CPU work. The robust manifest is generated on first use when missing (or beforehand with
# python tools/dataset_converters/make_robust_manifest.py data/SynthAVS --subset s4).
_base_ = ['./avsbench-robust_s4.py']

data_root = 'data/SynthAVS'
img_scale = (112, 112)
crop_size = (112, 112)
# Decoded frames, masks and log-mel clips kept in memory by each loading process: SynthAVS is
# small, and a robust evaluation reads every frame once per audio condition (about 0.35 MB per
# frame with its mask and clip).
decode_cache_size = 4096

train_pipeline = [
    dict(type='LoadAVSFrame', cache_size=decode_cache_size),
    dict(type='LoadAVSMask', cache_size=decode_cache_size),
    # with_clip: every second of the clip too, for clip-level audio
    dict(type='LoadAVSAudio', use_cache=True, with_clip=True, cache_size=decode_cache_size),
    dict(type='RandomResize', scale=img_scale, ratio_range=(1.0, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVSegInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrame', cache_size=decode_cache_size),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAVSMask', cache_size=decode_cache_size),
    dict(type='LoadAVSAudio', use_cache=True, with_clip=True, cache_size=decode_cache_size),
    dict(type='PackAVSegInputs'),
]

# num_workers=0: on a 2-core CPU machine loader processes compete with the model's threads for
# the cores; raise it on bigger machines.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(dataset=dict(data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        build_manifest_if_missing=True, dataset=dict(data_root=data_root, pipeline=test_pipeline)))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        build_manifest_if_missing=True, dataset=dict(data_root=data_root, pipeline=test_pipeline)))
