# The debiased tiny TPAVI model on SynthAVS MS3 (several sources, a subset sounding); see the S4
# config. Frame-level audio: MS3's sources change within a clip.
_base_ = [
    '../_base_/models/tpavi_mit-tiny.py', '../_base_/datasets/synthavs-robust_ms3.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_epochs.py'
]
train_dataloader = dict(dataset=dict(neg_ratios=dict(offscreen=0.3, silence=0.1)))
max_epochs = 120
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.01), clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=2, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=20)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2))
custom_hooks = [dict(type='SimilarityLoggerHook')]
