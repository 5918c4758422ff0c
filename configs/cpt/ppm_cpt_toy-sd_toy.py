# PPM + CPT on the toy data with the trained toy SD (data/toy_sd):
# configs/ppm/ppm_toy-sd_1shot_toy.py (toy SD, toy episodes, the toy prompt
# fit of docs/method.md, cached maps) plus the CPT of
# configs/ppm_cpt_split1.py (P_bar, Phi and base prompts, trained on the toy
# train split's 8 categories on a CPU). lr 2e-3 instead of the paper's 5e-4
# (x4: a thousand CPU iterations instead of 20k GPU ones). Trained with the
# maps the toy configs test with (cached queries, train_cfg.map_features=
# 'cached': one UNet pass per image, no diffusion term; docs/cpt.md).
#   python tools/train.py configs/cpt/ppm_cpt_toy-sd_toy.py
#   python tools/test.py configs/cpt/ppm_cpt_toy-sd_toy.py \
#       work_dirs/ppm_cpt_toy-sd_toy/best.pth
_base_ = [
    '../ppm/ppm_toy-sd_1shot_toy.py', '../_base_/datasets/toy_train.py',
    '../_base_/schedules/cpt_adam-lr5e-4_20k.py'
]

# CPT as configs/ppm_cpt_split1.py; base prompts initialised like the toy
# fit's prompts
model = dict(
    prompt_encoder=dict(_delete_=True, type='SharedPromptMLP'),  # P_bar, Phi
    train_cfg=dict(num_base_keypoints=None, prompt_init_std=0.1,
                   map_features='cached'))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
randomness = dict(seed=0)
train_cfg = dict(max_iters=1000, val_interval=250)
default_hooks = dict(logger=dict(interval=25, log_metric_by_epoch=False),
                     checkpoint=dict(interval=250, max_keep_ckpts=1))
log_processor = dict(window_size=10)
# gradient norms and update sizes of base prompts, P_bar and Phi every 25
# iterations (docs/cpt.md, "Diagnosis")
custom_hooks = _base_.custom_hooks + [
    dict(type='CPTDiagnosticsHook', interval=25)
]
