# CPT schedule (paper section 4, docs/cpt.md): Adam lr 5e-4 on P_bar, Phi and
# the base prompts (the only parameters: SD is frozen outside the module tree),
# batch 4 per GPU x 2 GPUs as in the paper. The paper gives no iteration count
# or lr decay: 20k iterations (~13 passes over a split's ~12k training
# instances at batch 8) at a constant lr are our choice; the best checkpoint is
# picked on the validation episodes (EpisodicPCK 'PCK', i.e. PCK@0.2).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = []  # constant learning rate

train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=5000)

# Checkpoint every val_interval; best by PCK (default_runtime.py's hook with
# save_best='PCK', rule='greater'): set `default_hooks.checkpoint.interval`
# in the config (bases may not repeat a key).

# lr 5e-4 is for 2 GPUs x 4; `--auto-scale-lr` is not wired, keep it explicit.
auto_scale_lr = dict(enable=False, base_batch_size=8)
