# AVSBench S4 under AVSBench-Robust (avsbench-robust_s4.py) with AVSegFormer's frames: every frame
# resized to 512x512, no augmentation. Masks are scored at their own 224 px (predictions are
# resized back to ori_shape; AVSegFormer scores at 512 px against upsampled masks).
_base_ = ['./avsbench-robust_s4.py']

img_scale = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='PackAVSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='PackAVSegInputs'),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(dataset=dict(pipeline=test_pipeline)))
test_dataloader = dict(dataset=dict(dataset=dict(pipeline=test_pipeline)))
