# PPM + CPT on the toy MP-100 set with a tiny random-weight SD (CPU-sized):
# the full CPT config (configs/ppm_cpt_split1.py) with small sizes, few
# iterations and few episodes. Build the inputs first:
#   python tools/dataset_converters/generate_toy_mp100.py \
#       --out-dir data/toy_mp100
#   python -c "from mmppm.utils.random_sd import save_random_sd; \
#       save_random_sd('data/random_sd')"
# The random SD makes absolute PCK meaningless: this checks the machinery.
_base_ = ['../ppm_cpt_split1.py']

data_root = 'data/toy_mp100/'
crop_size = (64, 64)  # crop, maps and heatmap targets
codec = dict(_base_.codec, input_size=crop_size, heatmap_size=crop_size)

model = dict(
    backbone=dict(pretrained='data/random_sd', input_size=(64, 64)),
    fitter=dict(
        steps=30, lr=2e-2, prompt_init_std=1.0, map_mode=dict(max_batch=64)))

# A base's lists keep the base's values: the three pipelines are the base's
# at this crop (TopdownAffine) with this codec (GenerateTarget).
train_pipeline, support_pipeline, query_pipeline = ([
    dict(step, input_size=crop_size) if step.type == 'TopdownAffine' else
    dict(step, encoder=codec) if step.type == 'GenerateTarget' else step
    for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.support_pipeline,
                   _base_.query_pipeline))

train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        num_episodes=4,
        num_queries=3,
        pipeline=support_pipeline,
        query_pipeline=query_pipeline))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        num_episodes=10,
        num_queries=3,
        pipeline=support_pipeline,
        query_pipeline=query_pipeline))

randomness = dict(seed=0)
train_cfg = dict(max_iters=200, val_interval=50)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=50, max_keep_ckpts=1))
log_processor = dict(window_size=10)
