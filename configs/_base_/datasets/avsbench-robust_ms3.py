# AVSBench MS3 (multiple sources), official layout under data/AVSBench (Multi-sources/...), 224 px,
# under AVSBench-Robust; see avsbench-robust_s4.py. The manifest is
# data/AVSBench/Multi-sources/robust_manifest_ms3_seed42.json, written with
#   python tools/dataset_converters/make_robust_manifest.py data/AVSBench --subset ms3
_base_ = ['./avsbench-robust_s4.py']

dataset_type = 'AVSBenchMS3Dataset'
train_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
val_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
test_dataloader = dict(dataset=dict(dataset=dict(type=dataset_type)))
