# Runtime shared by every mmavs config: scope, plugin import, CPU/GPU-neutral distributed settings,
# logging and visualisation backends.
default_scope = 'mmseg'
custom_imports = dict(imports=['mmavs'], allow_failed_imports=False)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # gloo runs on CPU and GPU; GPU clusters may prefer `env_cfg.dist_cfg.backend=nccl`.
    dist_cfg=dict(backend='gloo'))
# device_ids=None lets DDP wrap CPU modules (the default [LOCAL_RANK] only works for CUDA modules)
# and is equally valid for a single-GPU module per process.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, find_unused_parameters=False)

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True, window_size=10)
log_level = 'INFO'
# Content check of the train/val data before training (DataCheckHook): 'fast' (headers and
# sizes), 'full' (decode every file) or 'off'; tools/misc/check_dataset.py runs 'full' on demand.
data_check = 'fast'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
