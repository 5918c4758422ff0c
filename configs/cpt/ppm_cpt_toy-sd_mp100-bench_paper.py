# PPM + CPT, the paper's recipe (Eq. 6: P_bar, Phi and one prompt P^k per
# base keypoint, trained on single instances), on the 70 base categories of
# the MP-100-shaped toy benchmark (data seed 0,
# `python tools/dataset_converters/generate_toy_mp100.py --preset mp100
#  --seed 0 --out-dir data/toy_mp100_bench/seed0`), with the trained toy SD.
# Validation: the 10 val categories x 2 episodes x 5 queries = 100 queries,
# so the best checkpoint is chosen on signal (docs/cpt.md). Test: the 20
# test categories (the benchmark's episodes come from
# tools/analysis/toy_benchmark.py).
#   python tools/train.py configs/cpt/ppm_cpt_toy-sd_mp100-bench_paper.py
_base_ = ['./ppm_cpt_toy-sd_toy.py']

data_root = 'data/toy_mp100_bench/seed0/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(
    dataset=dict(data_root=data_root, num_episodes=2, num_queries=5))
test_dataloader = dict(dataset=dict(data_root=data_root))
