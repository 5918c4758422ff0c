# The bundled toy MP-100 episodes (data/toy_mp100; `python tools/run_toy.py`
# generates it): the episodes, crop and pipelines of mp100_episodes.py with
# the toy's Gaussian target sigma and CPU-sized episode counts (val 2, test 4
# episodes per category, 3 queries each, no loader workers).
_base_ = ['./mp100_episodes.py']

data_root = 'data/toy_mp100/'
heatmap_sigma = 8.0  # Gaussian target sigma, crop pixels
codec = dict(_base_.codec, sigma=heatmap_sigma)
# A base's lists keep the base's values: the support pipeline is the base's
# with this codec in its GenerateTarget.
support_pipeline = [
    dict(step, encoder=codec) if step.type == 'GenerateTarget' else step
    for step in _base_.support_pipeline
]

val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        num_episodes=2,
        num_queries=3,
        pipeline=support_pipeline))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], num_episodes=4))
