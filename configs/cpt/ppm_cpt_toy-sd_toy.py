# PPM + CPT on the toy data with the trained toy SD (data/toy_sd): the full
# CPT config (configs/ppm_cpt_split1.py) at toy sizes -- crop 256, SD input
# 128, sigma 8, the toy prompt fit (docs/method.md) and cached maps as
# configs/ppm/ppm_toy-sd_1shot_toy.py -- trained on the toy
# train split's 8 categories on a CPU. lr 2e-3 instead of the paper's 5e-4
# (x4: a few hundred CPU iterations instead of 20k GPU ones).
#   python tools/train.py configs/cpt/ppm_cpt_toy-sd_toy.py
#   python tools/test.py configs/cpt/ppm_cpt_toy-sd_toy.py \
#       work_dirs/ppm_cpt_toy-sd_toy/best.pth
_base_ = ['../ppm_cpt_split1.py']

data_root = 'data/toy_mp100/'
crop_size = (256, 256)
codec = dict(type='MSRAHeatmap',
             input_size=crop_size,
             heatmap_size=crop_size,
             sigma=8.0)

model = dict(
    backbone=dict(pretrained='data/toy_sd', input_size=(128, 128)),
    head=dict(map_loss='normalized_ce'),
    test_cfg=dict(steps=50, lr=0.1, prompt_init_std=0.1, max_batch=64,
                  map_features='cached'),
    train_cfg=dict(prompt_init_std=0.1))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomBBoxTransform',
         shift_prob=0,
         scale_factor=(0.85, 1.15),
         rotate_factor=15),
    dict(type='TopdownAffine', input_size=crop_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
support_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=crop_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
query_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=crop_size),
    dict(type='PackPoseInputs'),
]
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
# the same episodes as configs/ppm/ppm_toy-sd_1shot_toy.py
val_dataloader = dict(
    **loader,
    dataset=dict(data_root=data_root, num_episodes=2, num_queries=3,
                 pipeline=support_pipeline, query_pipeline=query_pipeline))
test_dataloader = dict(
    **loader,
    dataset=dict(data_root=data_root, num_episodes=4, num_queries=3,
                 pipeline=support_pipeline, query_pipeline=query_pipeline))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
randomness = dict(seed=0)
train_cfg = dict(max_iters=300, val_interval=100)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=100, max_keep_ckpts=1))
log_processor = dict(window_size=10)
