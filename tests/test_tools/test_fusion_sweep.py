# Copyright (c) mmppm contributors. All rights reserved.
import json

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmppm.testing.ppm_configs import small_config, write_config
from mmppm.testing.synthetic_episodes import CROP, make_sample

pytestmark = pytest.mark.usefixtures('one_thread')


class _Head:

    @staticmethod
    def decode(maps):
        from mmppm.models.decoders import ArgmaxDecoder
        return ArgmaxDecoder()(maps)


class _Model:
    head = _Head()


def _query(gt_crop_xy):
    """A query whose crop is its image (centre CROP/2, scale CROP)."""
    s = make_sample(
        'query',
        gt_crop_xy, [1, 1],
        center=(CROP / 2, CROP / 2),
        scale=(CROP, CROP))
    s.gt_instances = InstanceData(
        keypoints=np.asarray(gt_crop_xy, np.float32)[None],
        keypoints_visible=np.ones((1, 2), np.float32),
        bboxes=np.array([[0, 0, CROP, CROP]], np.float32))
    s.set_metainfo(dict(support_keypoints_visible=np.ones((1, 2))))
    return s


def test_decode_and_score_known_answer(load_tool):
    """Keypoint 0: the prompts say (2, 3), the features (20, 20), the truth
    is (2, 3); keypoint 1: both say (10, 10), the truth. Weight 0 scores
    100 %, weight 1 50 %."""
    tool = load_tool('analysis/fusion_sweep.py')
    prompt = torch.zeros(1, 2, CROP, CROP)
    prompt[0, 0, 3, 2] = 1
    prompt[0, 1, 10, 10] = 1
    sim = torch.full((1, 2, CROP, CROP), -1.)
    sim[0, 0, 20, 20] = 1
    sim[0, 1, 10, 10] = 1
    queries = [_query([[2, 3], [10, 10]])]
    fused = tool.decode_fused(_Model(), prompt, sim, [], queries, [0., 1.],
                              [0.1], {})
    np.testing.assert_allclose(fused['0/0.1'][0], [[2, 3], [10, 10]])
    np.testing.assert_allclose(fused['1/0.1'][0], [[20, 20], [10, 10]])
    records = tool.query_records(queries, fused)
    assert records[0]['pck'] == {'0/0.1': 1.0, '1/0.1': 0.5}
    # no twin names: no twin counted
    assert records[0]['swaps'] == {'0/0.1': [0, 0, 0], '1/0.1': [0, 0, 0]}


def test_swaps_counted_for_twin_names(load_tool):
    """Keypoints 'left eye' / 'right eye': predicting each at the other's
    place is two swaps of two counted twins."""
    tool = load_tool('analysis/fusion_sweep.py')
    query = _query([[2, 3], [20, 20]])
    query.set_metainfo(dict(keypoint_names=['left eye', 'right eye']))
    swapped = np.array([[[20, 20], [2, 3]]], np.float32)
    records = tool.query_records([query], {'a': swapped})
    assert records[0]['swaps'] == {'a': [2, 2, 0]}
    assert records[0]['pck'] == {'a': 0.0}


def test_table_lines(load_tool):
    tool = load_tool('analysis/fusion_sweep.py')
    result = dict(
        split='val',
        episodes=2,
        queries=6,
        weights=[0, 1],
        temperatures=[0.1],
        layout_sigmas=[0.2],
        mean_pck={
            '0/0.1': 0.5,
            '0/0.1/0.2': 0.6,
            '1/0.1': 0.75,
            '1/0.1/0.2': 0.8
        },
        swap_rate={
            '0/0.1': 0.25,
            '0/0.1/0.2': 0.125,
            '1/0.1': None,
            '1/0.1/0.2': 0.
        })
    assert tool.table_lines(result)[-4:] == [
        '| 0 | 0.1 | - | 50.00 | 25.0 |', '| 0 | 0.1 | 0.2 | 60.00 | 12.5 |',
        '| 1 | 0.1 | - | 75.00 | - |', '| 1 | 0.1 | 0.2 | 80.00 | 0.0 |'
    ]


def test_sweep_runs_end_to_end(load_tool, random_sd_dir, toy_data, tmp_path):
    tool = load_tool('analysis/fusion_sweep.py')
    config = write_config(
        small_config(random_sd_dir, toy_data), tmp_path / 'cfg.py')
    out = tmp_path / 'sweep.json'
    result = tool.main([
        config, '--split', 'test', '--weights', '0', '1', '--temperatures',
        '0.03', '0.3', '--layout-sigmas', '0.1', '--out',
        str(out)
    ])
    assert result['episodes'] == 2 and result['queries'] == 4
    pck = result['mean_pck']
    # the argmax of the prompts alone, or of the features alone, does not
    # depend on the temperature
    assert pck['0/0.03'] == pck['0/0.3'] and pck['1/0.03'] == pck['1/0.3']
    assert set(pck) == {
        f'{w}/{t}{s}'
        for w in (0, 1)
        for t in (0.03, 0.3)
        for s in ('', '/0.1')
    }
    assert json.loads(out.read_text())['mean_pck'] == pck


@pytest.mark.parametrize('argv,message', [
    (['--weights', '1.5'], '--weights must lie in'),
    (['--temperatures', '0'], '--temperatures must be > 0'),
    (['--layout-sigmas', '-1'], '--layout-sigmas must be > 0'),
])
def test_argument_ranges(load_tool, capsys, argv, message):
    tool = load_tool('analysis/fusion_sweep.py')
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py'] + argv)
    assert message in capsys.readouterr().err


def test_a_baseline_config_is_refused_in_one_line(load_tool, one_line_error):
    tool = load_tool('analysis/fusion_sweep.py')
    line = one_line_error(tool.main,
                          ['configs/baselines/support-copy_1shot_toy.py'])
    assert 'needs a PPMEstimator config' in line
