# PPM + CPT on the toy MP-100 set with a tiny random-weight SD (CPU-sized):
# the full CPT config (configs/ppm_cpt_split1.py) with small sizes, few
# iterations and few episodes. Build the inputs first:
#   python tools/dataset_converters/generate_toy_mp100.py --out-dir data/toy_mp100
#   python -c "from mmppm.utils import save_random_sd; save_random_sd('data/tiny_sd')"
# The random SD makes absolute PCK meaningless: this checks the machinery.
_base_ = ['../ppm_cpt_split1.py']

data_root = 'data/toy_mp100/'
crop_size = (64, 64)  # crop, maps and heatmap targets
codec = dict(type='MSRAHeatmap',
             input_size=crop_size,
             heatmap_size=crop_size,
             sigma=2.0)

model = dict(backbone=dict(pretrained='data/tiny_sd', input_size=(64, 64)),
             test_cfg=dict(steps=30,
                           lr=2e-2,
                           prompt_init_std=1.0,
                           max_batch=64))

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

train_dataloader = dict(num_workers=0,
                        persistent_workers=False,
                        dataset=dict(data_root=data_root,
                                     pipeline=train_pipeline))
val_dataloader = dict(num_workers=0,
                      persistent_workers=False,
                      dataset=dict(data_root=data_root,
                                   num_episodes=4,
                                   num_queries=3,
                                   pipeline=support_pipeline,
                                   query_pipeline=query_pipeline))
test_dataloader = dict(num_workers=0,
                       persistent_workers=False,
                       dataset=dict(data_root=data_root,
                                    num_episodes=10,
                                    num_queries=3,
                                    pipeline=support_pipeline,
                                    query_pipeline=query_pipeline))

randomness = dict(seed=0)
train_cfg = dict(max_iters=200, val_interval=50)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=50, max_keep_ckpts=1))
log_processor = dict(window_size=10)
