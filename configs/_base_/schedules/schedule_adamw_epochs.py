# Epoch-based AdamW schedule (the AVS convention: AVSBench/AVSegFormer train by epochs).
max_epochs = 30
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-5, betas=(0.9, 0.999), weight_decay=0.01))
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
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='AVSegVisualizationHook', draw=False))
