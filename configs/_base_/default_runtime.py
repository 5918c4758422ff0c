default_scope = 'mmpose'
custom_imports = dict(
    imports=['mmppm', 'mmppm.engine'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1000,
        by_epoch=False,
        save_best='PCK',
        rule='greater',
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

# Training stops at the first non-finite loss, before a checkpoint is saved;
# checkpoints carry the random states (a resumed run equals an uninterrupted
# one); {work_dir}/best.pth links the best checkpoint; checkpoints record
# their training categories and a test run refuses them (docs/train_test.md).
custom_hooks = [
    dict(type='FiniteLossHook'),
    dict(type='RandomStateHook'),
    dict(type='BestCheckpointLinkHook'),
    dict(type='CategoryHygieneHook'),
    dict(type='CheckpointModelHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='PoseLocalVisualizer', vis_backends=vis_backends, name='visualizer')

log_processor = dict(
    type='LogProcessor', window_size=50, by_epoch=False, num_digits=6)
log_level = 'INFO'
load_from = None
resume = False
backend_args = dict(backend='local')

# Episodes: one sample = one episode, resumable test runs.
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='ResumableTestLoop')
