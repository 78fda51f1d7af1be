# SegFormer-AV debiased on AVSBench MS3 with the authors' recipe: 60 epochs, visual backbone frozen
# for the first 10; otherwise as the S4 config (segformer-av-robust_..._avsbench-robust-s4-...).
_base_ = [
    '../_base_/models/segformer-av_mit-b0.py', '../_base_/datasets/avsbench-robust_ms3.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_epochs.py'
]
visual_checkpoint = 'checkpoints/mit_b0_20220624-7e0fe6dd.pth'
vggish_checkpoint = 'checkpoints/vggish-10086976.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=visual_checkpoint)),
    audio_backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=vggish_checkpoint)))

max_epochs = 60
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=2e-5))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='val/positive/mIoU', rule='greater'))
custom_hooks = [
    dict(type='FreezeBackboneHook', freeze_epochs=10),
    dict(type='SimilarityLoggerHook'),
]
model_wrapper_cfg = dict(find_unused_parameters=True)
