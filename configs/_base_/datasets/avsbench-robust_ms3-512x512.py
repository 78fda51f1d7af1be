# AVSBench MS3 under AVSBench-Robust with AVSegFormer's 512x512 frames; see
# avsbench-robust_s4-512x512.py.
_base_ = ['./avsbench-robust_s4-512x512.py']

dataset_type = 'AVSBenchMS3Dataset'
train_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
val_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
test_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
