# AVSegFormer on PVT-v2-b5, AVSBench MS3, the authors' recipe: every frame annotated, 2 videos
# (10 frames) per batch, 60 epochs, backbone frozen for 10; see the S4 config.
_base_ = [
    '../_base_/models/avsegformer_pvt-v2-b5.py',
    '../_base_/datasets/avsbench-robust_ms3-512x512.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_avsegformer.py'
]
max_epochs = 60
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_dataloader = dict(
    batch_size=10,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
custom_hooks = [dict(type='FreezeBackboneHook', freeze_epochs=10)]
model_wrapper_cfg = dict(find_unused_parameters=True)
