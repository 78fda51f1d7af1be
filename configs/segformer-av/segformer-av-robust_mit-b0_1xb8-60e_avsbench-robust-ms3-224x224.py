# SegFormer-AV debiased on AVSBench MS3 with the authors' recipe: 60 epochs, visual backbone frozen
# for the first 10; otherwise the S4 config on the MS3 split (manifest and layout:
# ../_base_/datasets/avsbench-robust_ms3.py).
_base_ = ['./segformer-av-robust_mit-b0_1xb8-30e_avsbench-robust-s4-224x224.py']

dataset_type = 'AVSBenchMS3Dataset'
train_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
val_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
test_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))

max_epochs = 60
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
custom_hooks = [
    dict(type='FreezeBackboneHook', freeze_epochs=10),
    dict(type='SimilarityLoggerHook'),
]
