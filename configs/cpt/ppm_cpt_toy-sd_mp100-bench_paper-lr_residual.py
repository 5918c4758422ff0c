# PPM + CPT as ppm_cpt_toy-sd_toy.py (paper recipe, P^k at the test-time
# fit's lr) with a residual Phi: context = P + Phi([P_bar, P]), Phi's last
# layer initialised to zero, so training starts at plain PPM (docs/cpt.md,
# "Causes"). 1000 iterations.
#   python tools/train.py \
#       configs/cpt/ppm_cpt_toy-sd_mp100-bench_paper-lr_residual.py
_base_ = ['./ppm_cpt_toy-sd_toy.py']

model = dict(prompt_encoder=dict(residual=True))
train_cfg = dict(max_iters=1000)
