# PPM + CPT, episodic recipe (docs/cpt.md, "Episodic CPT"): P_bar and Phi
# trained through the test-time procedure on episodes of the 70 base
# categories of the MP-100-shaped toy benchmark (data seed 0): each episode's
# fresh prompts are fitted on its support exactly as at test time (the
# estimator's fitter: 50 Adam steps, lr 0.1, cached maps through the current
# Phi), and the loss is their map loss on the episode's queries through
# Phi([P_bar, P]) (paper Eq. 5); gradients reach P_bar and Phi through that
# last context only (first order). No base prompts P^k. Residual Phi
# (context = P + Phi([P_bar, P]), last layer zero): training starts at plain
# PPM. Validation as the paper-recipe config: 100 val queries.
#   python tools/train.py configs/cpt/ppm_cpt_toy-sd_mp100-bench_episodic.py
_base_ = ['./ppm_cpt_toy-sd_mp100-bench_paper.py']

model = dict(
    prompt_encoder=dict(residual=True),
    train_cfg=dict(recipe=dict(type='EpisodicCPTRecipe')))

# episodes of base categories (the val loader's episodes, drawn from the
# train file), the queries with Gaussian targets
episode_pipeline = _base_.val_dataloader.dataset.pipeline
train_dataloader = dict(
    _base_.val_dataloader,
    _delete_=True,
    batch_size=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _base_.val_dataloader.dataset,
        ann_file='annotations/mp100_split1_train.json',
        test_mode=False,
        shots=1,
        num_queries=4,
        num_episodes=50,
        query_pipeline=episode_pipeline))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=300, val_interval=50)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=50, max_keep_ckpts=1))
