# SegFormer-AV debiased on AVSBench S4 (AVSBench-Robust) with the authors' recipe: AdamW lr 2e-5,
# 30 epochs, visual backbone frozen for the first 5 epochs, VGGish frozen, balanced stream of 90 %
# positives + 5 % off-screen + 5 % silence (noise held out for testing), similarity loss + joint
# segmentation. The model is mmavs's lighter one (MiT-b0 + channel-gate fusion + SegFormer head);
# the mask loss is BCE + empty-safe IoU instead of the authors' Dice (whose gradient on an empty
# mask is zero). Preparation: docs/real_avsbench.md (data, manifest, local pretrained weights;
# nothing is downloaded at run time).
_base_ = [
    '../_base_/models/segformer-av_mit-b0.py', '../_base_/datasets/avsbench-robust_s4.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_epochs.py'
]
visual_checkpoint = 'checkpoints/mit_b0_20220624-7e0fe6dd.pth'
vggish_checkpoint = 'checkpoints/vggish-10086976.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=visual_checkpoint)),
    audio_backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=vggish_checkpoint)))

max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=2e-5))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='val/positive/mIoU', rule='greater'))
custom_hooks = [
    dict(type='FreezeBackboneHook', freeze_epochs=5),
    dict(type='SimilarityLoggerHook'),
]
# A frozen backbone has no gradients: DDP must be told (FreezeBackboneHook checks this).
model_wrapper_cfg = dict(find_unused_parameters=True)
