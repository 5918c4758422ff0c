# Runtime shared by the two stages of the toy SD (README.md):
# iteration-based training, no validation, one checkpoint kept.
default_scope = 'mmpose'
custom_imports = dict(
    imports=['mmppm', 'mmppm.engine', 'projects.toy_sd'],
    allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=25),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=250, by_epoch=False, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
custom_hooks = [dict(type='FiniteLossHook'), dict(type='RandomStateHook')]
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'),
)
vis_backends = [dict(type='LocalVisBackend')]
# No fixed name: the Runner names it after its experiment, so the UNet stage
# (a second Runner in the same process) gets its own visualizer and logs its
# scalars in its own work dir, not in the VAE stage's.
visualizer = dict(type='mmengine.Visualizer', vis_backends=vis_backends)
log_processor = dict(type='LogProcessor', window_size=25, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)

sd_input_size = 128  # the toy PPM configs feed SD 128 x 128 crops
# Training images: captioned scenes of the toy world drawn on the fly from a
# seed stream the toy MP-100 categories never use, cropped as PPM crops (bbox
# x 1.25) with random scale, rotation and shift (mmppm/datasets/toy_world).
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='CaptionedToyScenes',
        # the world's seed (projects/toy_sd/tools/train_toy_sd.py
        # --world-seed)
        seed=0,
        crop_size=sd_input_size,
        num_keypoints=(3, 20),
        word_dropout=0.1,
        caption_dropout=0.1))

# Warm-up, then cosine decay to a tenth of the stage's lr
# (projects/toy_sd/tools/train_toy_sd.py stretches begin/end to --vae-iters /
# --unet-iters).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=100,
        end=2000,
        eta_min_ratio=0.1),
]
