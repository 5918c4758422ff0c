# PPM + CPT, the paper's recipe (Eq. 6) with one change: the base prompts
# P^k learn at the test-time fit's rate (lr 0.1 = 50 x the 2e-3 of P_bar
# and Phi, through mmengine's paramwise_cfg), so that the prompts Phi is
# trained on travel as far from their init as the fresh prompts fitted
# through it at test time (docs/cpt.md, "Causes": a). Otherwise as
# ppm_cpt_toy-sd_mp100-bench_paper.py (70 base categories of the
# MP-100-shaped toy, data seed 0).
#   python tools/train.py configs/cpt/ppm_cpt_toy-sd_mp100-bench_paper-lr.py
_base_ = ['./ppm_cpt_toy-sd_mp100-bench_paper.py']

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'base_prompts': dict(lr_mult=50.)}))
