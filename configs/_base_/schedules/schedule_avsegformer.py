# AVSegFormer's optimisation: AdamW lr 2e-5 (PyTorch defaults otherwise), no scheduler, no
# gradient clipping, 30 epochs (S4; MS3 60), validation every epoch, the best val positive mIoU
# kept; the visual backbone frozen for the first 5 epochs (MS3 10).
max_epochs = 30
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    # random states in every checkpoint, restored on --resume (mmavs.engine.hooks.RNGStateHook)
    rng_state=dict(type='RNGStateHook'),
    # the content of the train/val files, before training (depth: `data_check` of the runtime)
    data_check=dict(type='DataCheckHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=2,
        save_best='val/positive/mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='AVSegVisualizationHook', draw=False))
custom_hooks = [dict(type='FreezeBackboneHook', freeze_epochs=5)]
