# Copyright (c) mmppm contributors. All rights reserved.
import json
import random
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mmppm.datasets import MP100Dataset, load_coco_json
from mmppm.testing.mp100_fixtures import (make_coco, require_shared_ann_file,
                                          write_json)

CODEC = dict(
    type='MSRAHeatmap',
    input_size=(256, 256),
    heatmap_size=(256, 256),
    sigma=6)
SUPPORT_PIPELINE = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=(256, 256)),
    dict(type='GenerateTarget', encoder=CODEC),
    dict(type='PackPoseInputs', pack_transformed=True),
]
QUERY_PIPELINE = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=(256, 256)),
    dict(type='PackPoseInputs', pack_transformed=True),
]
TRAIN_PIPELINE = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.85, 1.15),
        rotate_factor=15),
    dict(type='TopdownAffine', input_size=(256, 256)),
    dict(type='GenerateTarget', encoder=CODEC),
    dict(type='PackPoseInputs'),
]


def test_mp100_split1_test_protocol():
    ann_file = require_shared_ann_file('mp100_split1_test.json')
    ds = MP100Dataset(ann_file=ann_file, mode='test', shots=1)
    data = load_coco_json(ann_file)
    assert len(ds.categories) == 20
    # K per category equals the annotation length
    for ann in data['annotations']:
        cat = ds.categories[ann['category_id']]
        assert cat['num_keypoints'] == len(ann['keypoints']) // 3
    for inst in ds.instances:
        k = inst['num_keypoints']
        assert inst['keypoints'].shape == (1, k, 2)
        assert inst['keypoints_visible'].shape == (1, k)
    assert len(ds) == 20 * 200
    eps = [ds.get_data_info(i) for i in range(len(ds))]
    assert sum(len(e['query_idx']) for e in eps) == 60000
    for e in eps:
        assert len(e['support_idx']) == 1
        assert not set(e['support_idx']) & set(e['query_idx'])
        assert len(set(e['query_idx'])) == 15
        cats = {
            ds.instances[i]['category_id']
            for i in e['support_idx'] + e['query_idx']
        }
        assert cats == {e['category_id']}
    # categories in annotation order, 200 episodes each
    order = list(OrderedDict.fromkeys(e['category_id'] for e in eps))
    assert order == [c['id'] for c in data['categories']]
    # a second construction gives the identical list
    ds2 = MP100Dataset(ann_file=ann_file, mode='test', shots=1)
    eps2 = [ds2.get_data_info(i) for i in range(len(ds2))]
    assert [(e['support_idx'], e['query_idx'])
            for e in eps] == [(e['support_idx'], e['query_idx']) for e in eps2]
    # same draw as the reference code: global random.seed(1) + sample
    random.seed(1)
    np.random.seed(0)
    ref = []
    for cid in ds.categories:
        pool = [
            i for i, x in enumerate(ds.instances) if x['category_id'] == cid
        ]
        ref += [random.sample(pool, 16) for _ in range(200)]
    assert ref == [e['support_idx'] + e['query_idx'] for e in eps]


def test_instance_filter_and_format(tmp_path):
    data = make_coco(num_per_cat=(6, ), ks=(3, ))
    anns = data['annotations']
    anns[0]['iscrowd'] = 1  # crowd: dropped
    anns[1]['bbox'] = [5., 10., 1., 50.]  # clipped width 0: dropped
    anns[2]['area'] = 0  # no area: dropped
    anns[3]['keypoints'][2::3] = [0, 0, 0]  # nothing labelled: dropped
    anns[4]['bbox'] = [-10., 70., 200., 50.]  # clipped to the image
    anns[4]['keypoints'][2::3] = [2.0, 0, 1]  # float v, min(1, v)
    ann_file = write_json(tmp_path / 'a.json', data)
    ds = MP100Dataset(ann_file=ann_file, data_root=str(tmp_path))
    assert [x['id'] for x in ds.instances] == [anns[4]['id'], anns[5]['id']]
    inst = ds.get_data_info(0)
    assert inst['img_path'] == str(tmp_path / 'images' / 'cat0/4.jpg')
    np.testing.assert_allclose(inst['bbox'], [[0., 70., 99., 79.]])
    assert inst['bbox'].dtype == np.float32
    assert inst['keypoints'].shape == (1, 3, 2)
    assert inst['keypoints'].dtype == np.float32
    np.testing.assert_array_equal(inst['keypoints_visible'], [[1, 0, 1]])
    assert inst['num_keypoints'] == 3 and inst['category_name'] == 'cat0'


def test_keypoint_offset(tmp_path):
    data = make_coco(num_per_cat=(2, 2, 2), ks=(3, 5, 4))
    data['categories'][1]['keypoints'] = []  # names may be empty
    ann_file = write_json(tmp_path / 'a.json', data)
    ds = MP100Dataset(ann_file=ann_file)
    assert ds.num_total_keypoints == 12
    offsets = {x['category_id']: x['keypoint_offset'] for x in ds.instances}
    assert offsets == {10: 0, 11: 3, 12: 8}
    assert ds.metainfo['num_total_keypoints'] == 12


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        MP100Dataset(ann_file=str(tmp_path / 'nope.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"images": [')
    with pytest.raises(ValueError, match='bad.json.*not valid JSON'):
        MP100Dataset(ann_file=str(bad))
    with pytest.raises(ValueError, match='no "annotations"'):
        MP100Dataset(
            ann_file=write_json(tmp_path /
                                'x.json', dict(images=[], categories=[])))
    data = make_coco(num_per_cat=(5, 3), ks=(3, 4))
    with pytest.raises(ValueError, match=r'"cat1" \(id 11\) has 3 valid'):
        MP100Dataset(
            ann_file=write_json(tmp_path / 'few.json', data),
            mode='test',
            shots=1,
            num_queries=3)
    data['annotations'][6]['keypoints'] += [1., 1., 2]
    with pytest.raises(
            ValueError,
            match=r'wrong.json: annotation id 1101 '
            r'\(category "cat1", id 11\) has 5 keypoints'):
        MP100Dataset(ann_file=write_json(tmp_path / 'wrong.json', data))


def test_missing_image_at_load_time(tmp_path):
    ann_file = write_json(tmp_path / 'a.json', make_coco())
    ds = MP100Dataset(
        ann_file=ann_file, data_root=str(tmp_path), pipeline=TRAIN_PIPELINE)
    with pytest.raises(FileNotFoundError, match='images/cat0/0.jpg'):
        ds[0]
    ep = MP100Dataset(
        ann_file=ann_file,
        data_root=str(tmp_path),
        mode='val',
        num_queries=2,
        num_episodes=1,
        pipeline=SUPPORT_PIPELINE)
    with pytest.raises(FileNotFoundError, match=r'images/cat0/\d\.jpg'):
        ep[0]


def test_toy_episode_through_mmpose_pipeline(toy_root):
    ds = MP100Dataset(
        ann_file='annotations/mp100_split1_test.json',
        data_root=str(toy_root),
        mode='test',
        shots=2,
        num_queries=3,
        num_episodes=2,
        pipeline=SUPPORT_PIPELINE,
        query_pipeline=QUERY_PIPELINE)
    assert len(ds) == 2 * 2
    out = ds[3]
    inputs, samples = out['inputs'], out['data_samples']
    assert inputs.shape == (5, 3, 256, 256) and inputs.dtype == torch.uint8
    assert [s.episode_role for s in samples] == ['support'] * 2 + ['query'] * 3
    info = ds.get_data_info(3)
    k = ds.categories[info['category_id']]['num_keypoints']
    for s, inst in zip(samples, info['support'] + info['query']):
        assert s.episode_id == 3 and s.num_shots == 2
        assert s.category_id == info['category_id']
        assert s.num_keypoints == k and s.category_name.startswith('toy_')
        assert s.keypoint_names == ds.categories[
            info['category_id']]['keypoints'] and len(s.keypoint_names) == k
        for key in ('input_center', 'input_scale', 'input_size', 'ori_shape',
                    'img_path', 'id'):
            assert key in s.metainfo, key
        assert s.id == inst['id']
        gt = s.gt_instances
        np.testing.assert_allclose(gt.keypoints, inst['keypoints'])
        np.testing.assert_allclose(gt.bboxes, inst['bbox'])
        assert gt.keypoints_visible.shape == (1, k)
        assert gt.transformed_keypoints.shape == (1, k, 2)
    for s in samples[:2]:
        assert s.gt_fields.heatmaps.shape == (k, 256, 256)
    for s in samples[2:]:
        assert 'gt_fields' not in s
        np.testing.assert_array_equal(
            s.support_keypoints_visible,
            np.concatenate([x['keypoints_visible'] for x in info['support']]))


def test_toy_train_mode(toy_root):
    ds = MP100Dataset(
        ann_file='annotations/mp100_split1_train.json',
        data_root=str(toy_root),
        pipeline=TRAIN_PIPELINE)
    assert not ds.test_mode and len(ds) == len(ds.instances) == 16
    ks = [c['num_keypoints'] for c in ds.categories.values()]
    assert ds.num_total_keypoints == sum(ks)
    out = ds[len(ds) - 1]
    s = out['data_samples']
    assert out['inputs'].shape == (3, 256, 256)
    assert s.keypoint_offset == ks[0] and s.num_keypoints == ks[1]
    assert s.gt_fields.heatmaps.shape == (ks[1], 256, 256)


@pytest.mark.parametrize('key,value', [('num_episodes', 0),
                                       ('num_episodes', -3), ('shots', 0),
                                       ('num_queries', 0)])
def test_bad_episode_counts_name_the_config_key(toy_root, key, value):
    from mmppm.datasets import MP100Dataset
    with pytest.raises(ValueError, match=f'{key} must be an integer >= 1'):
        MP100Dataset(
            ann_file='annotations/mp100_split1_test.json',
            data_root=str(toy_root),
            mode='test',
            **{key: value})


@pytest.mark.parametrize('content', [b'', b'not a jpeg at all'])
def test_undecodable_image_is_named(toy_root, tmp_path, content):
    import shutil

    from mmppm.datasets import MP100Dataset
    root = tmp_path / 'toy'
    shutil.copytree(toy_root, root)
    ann = json.loads((root / 'annotations/mp100_split1_test.json').read_text())
    bad = root / 'images' / ann['images'][0]['file_name']
    bad.write_bytes(content)
    ds = MP100Dataset(
        ann_file='annotations/mp100_split1_test.json',
        data_root=str(root),
        mode='train',
        pipeline=[dict(type='LoadImage')])
    with pytest.raises(
            ValueError,
            match=r'image .*\.jpg \(annotation id '
            r'\d+, category "toy_cat\d+"\) is not a readable '
            r'image'):  # measured before the pipeline decodes it
        ds[0]


def test_pipeline_builds_after_an_mmengine_scoped_runner(tmp_path):
    """An mmengine Runner with ``default_scope='mmengine'`` earlier in the
    process (a notebook, another test) leaves that scope current; mmpose's
    transforms used to be looked up there: 'LoadImage is not in the
    mmengine::transform registry'."""
    from mmengine.registry import DefaultScope
    ann_file = write_json(tmp_path / 'a.json', make_coco())
    with DefaultScope.overwrite_default_scope('mmengine'):
        ds = MP100Dataset(
            ann_file=ann_file,
            data_root=str(tmp_path),
            pipeline=TRAIN_PIPELINE)
        assert DefaultScope.get_current_instance().scope_name == 'mmengine'
    assert [type(t).__name__
            for t in ds.pipeline.transforms][:1] == ['LoadImage']
