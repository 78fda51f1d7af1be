# The AVSBench TPAVI model on PVT-v2-b5, AVSBench S4, positives only, AVSBench's recipe: Adam lr
# 1e-4 without weight decay, 15 epochs, the annotated frame of 4 videos per batch, BCE, 224 px.
_base_ = [
    '../_base_/models/tpavi_pvt-v2-b5.py', '../_base_/datasets/avsbench-robust_s4.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_epochs.py'
]
max_epochs = 15
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-4, weight_decay=0.0))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=2, save_best='val/positive/mIoU', rule='greater'))
train_dataloader = dict(
    batch_size=4,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
