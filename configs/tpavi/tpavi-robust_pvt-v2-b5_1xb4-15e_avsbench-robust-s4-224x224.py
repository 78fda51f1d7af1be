# The AVSBench TPAVI model on PVT-v2-b5 debiased with AVSBench-Robust on S4: the positive-only
# recipe with the balanced stream (90 % positives, 5 % off-screen, 5 % silence) and the similarity
# head on the last PVT stage (learnable scale and bias), BCE + empty-safe IoU mask loss.
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
train_dataloader = dict(batch_size=4)
model = dict(
    decode_head=dict(loss_decode=[
        dict(type='SigmoidBCELoss', loss_weight=1.0),
        dict(type='EmptySafeIoULoss', loss_weight=1.0)
    ]),
    similarity_head=dict(
        type='SimilarityHead',
        visual_channels=512,
        audio_channels=128,
        embed_dims=256,
        in_index=-1,
        loss_weight=1.0))
custom_hooks = [dict(type='SimilarityLoggerHook')]
