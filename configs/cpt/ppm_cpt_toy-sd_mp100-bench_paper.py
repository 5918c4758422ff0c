# PPM + CPT with the paper's recipe (Eq. 6: P_bar, Phi and one prompt P^k
# per base keypoint, trained on single instances, one Adam lr for all) on
# the 70 base categories of the MP-100-shaped toy (data seed 0), with the
# trained toy SD; otherwise as ppm_cpt_toy-sd_toy.py (the shipped variant,
# which trains P^k at the test-time fit's lr). lr 2e-3 (the paper's 5e-4 x 4
# for a CPU-length run), 1000 iterations (val PCK had levelled off; its
# curve and rows: docs/cpt.md, indexed by docs/results.md).
#   python tools/train.py configs/cpt/ppm_cpt_toy-sd_mp100-bench_paper.py
_base_ = ['./ppm_cpt_toy-sd_toy.py']

optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-3))
train_cfg = dict(max_iters=1000)
