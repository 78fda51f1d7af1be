# AVSegFormer-robust on PVT-v2-b5, AVSBench MS3: the S4 robust recipe with MS3's schedule (60
# epochs, backbone frozen for 10, 10 frames per batch) and 512 px frames in training too (the
# authors' MS3 negatives are resized like the positives).
_base_ = ['./avsegformer-robust_pvt-v2-b5_1xb2-30e_avsbench-robust-s4-224x224.py']

dataset_type = 'AVSBenchMS3Dataset'
img_scale = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='PackAVSegInputs'),
]
train_dataloader = dict(
    batch_size=10, dataset=dict(dataset=dict(type=dataset_type, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
test_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
max_epochs = 60
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
custom_hooks = [
    dict(type='FreezeBackboneHook', freeze_epochs=10),
    dict(type='SimilarityLoggerHook'),
]
