# AVSegFormer on PVT-v2-b5, AVSBench S4, the authors' recipe: positives only, 512 px frames, the
# annotated frame of 2 videos per batch, AdamW 2e-5 for 30 epochs, backbone frozen for 5, Dice +
# 0.1 mix Dice. Evaluated on AVSBench-Robust (every audio condition) like every mmavs model.
_base_ = [
    '../_base_/models/avsegformer_pvt-v2-b5.py', '../_base_/datasets/avsbench-robust_s4-512x512.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_avsegformer.py'
]
train_dataloader = dict(
    batch_size=2,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
model_wrapper_cfg = dict(find_unused_parameters=True)
