# Copyright (c) mmppm contributors. All rights reserved.
"""CategoryHygieneHook: checkpoints record their training categories; a
test run refuses to test a checkpoint on them."""
import logging
from types import SimpleNamespace

import pytest
from mmengine.runner import BaseLoop

from mmppm.datasets import MP100Dataset
from mmppm.engine.hooks import CategoryHygieneHook
from mmppm.engine.hooks.category_hygiene_hook import META_KEY


class _Loop(BaseLoop):

    def run(self):
        pass


def _runner(dataset, role):
    runner = SimpleNamespace(
        _train_loop=dict(), _test_loop=dict(), logger=logging.getLogger())
    loop = _Loop(runner, SimpleNamespace(dataset=dataset))
    setattr(runner, f'_{role}_loop', loop)
    return runner


def _dataset(root, split):
    return MP100Dataset(
        ann_file=f'annotations/mp100_split1_{split}.json',
        data_root=str(root),
        mode='train' if split == 'train' else 'test',
        num_episodes=1,
        num_queries=2)


def test_recorded_on_save_and_refused_on_test(toy_root):
    train = _dataset(toy_root, 'train')
    checkpoint = {}
    CategoryHygieneHook().before_save_checkpoint(
        _runner(train, 'train'), checkpoint)
    recorded = checkpoint['meta'][META_KEY]
    assert sorted(recorded.values()) == sorted(
        c['name'] for c in train.categories.values())

    # tested on its own training categories: one line, before any episode
    runner = _runner(_dataset(toy_root, 'train'), 'test')
    with pytest.raises(ValueError) as err:
        CategoryHygieneHook().after_load_checkpoint(runner, checkpoint)
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith('2 test categories are training categories '
                              'of the checkpoint (toy_cat00, toy_cat01')
    assert '--allow-train-categories' in message
    # the override: a warning, no error
    CategoryHygieneHook(allow_train_categories=True).after_load_checkpoint(
        runner, checkpoint)
    # the test split is clean; a checkpoint without the record is tested
    clean = _runner(_dataset(toy_root, 'test'), 'test')
    CategoryHygieneHook().after_load_checkpoint(clean, checkpoint)
    CategoryHygieneHook().after_load_checkpoint(runner, {'meta': {}})
    # a hand-made record that is not a table: warned, not a traceback
    CategoryHygieneHook().after_load_checkpoint(runner,
                                                {'meta': {
                                                    META_KEY: 3
                                                }})
    with pytest.raises(ValueError, match='allow_train_categories must be'):
        CategoryHygieneHook(allow_train_categories='yes')


def test_digests_follow_content_not_names(toy_root):
    from mmppm.datasets.category_digest import category_digests
    test = _dataset(toy_root, 'test')
    digests = category_digests(test.instances)
    assert len(set(digests.values())) == len(test.categories)
    renamed = [
        dict(inst, category_id=inst['category_id'] + 100, img_path='x.jpg')
        for inst in test.instances
    ]
    assert sorted(category_digests(renamed).values()) == sorted(
        digests.values())
    moved = [dict(inst) for inst in test.instances]
    moved[0]['keypoints'] = moved[0]['keypoints'] + 1
    changed = category_digests(moved)
    cid = moved[0]['category_id']
    assert changed[cid] != digests[cid]
    assert all(changed[c] == digests[c] for c in digests if c != cid)
