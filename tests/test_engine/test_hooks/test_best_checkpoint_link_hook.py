"""``best.pth``: one name for the best checkpoint, never over a user file."""
import logging
import os
import os.path as osp
from types import SimpleNamespace

from mmppm.engine.hooks import BestCheckpointLinkHook


class _Hub:

    def __init__(self, best):
        self.best = best

    def get_info(self, key):
        return self.best if key == 'best_ckpt' else None


def _runner(work_dir, best):
    return SimpleNamespace(
        work_dir=str(work_dir),
        message_hub=_Hub(best),
        logger=logging.getLogger('test_best_link'))


def test_link_follows_the_best_checkpoint(tmp_path):
    hook = BestCheckpointLinkHook()
    first = tmp_path / 'best_PCK_iter_2.pth'
    first.write_bytes(b'2')
    hook.after_val_epoch(_runner(tmp_path, str(first)))
    link = tmp_path / 'best.pth'
    assert osp.islink(link) and os.readlink(link) == 'best_PCK_iter_2.pth'
    # mmengine deletes the old best and saves a new one: the link follows
    first.unlink()
    second = tmp_path / 'best_PCK_iter_4.pth'
    second.write_bytes(b'4')
    hook.after_val_epoch(_runner(tmp_path, str(second)))
    assert link.read_bytes() == b'4'
    # no best yet (or a stale name): nothing changes
    hook.after_val_epoch(_runner(tmp_path, None))
    hook.after_val_epoch(_runner(tmp_path, str(tmp_path / 'gone.pth')))
    assert link.read_bytes() == b'4'


def test_a_users_file_named_best_is_left_alone(tmp_path, caplog):
    mine = tmp_path / 'best.pth'
    mine.write_bytes(b'mine')
    best = tmp_path / 'best_PCK_iter_2.pth'
    best.write_bytes(b'2')
    with caplog.at_level(logging.WARNING, logger='test_best_link'):
        BestCheckpointLinkHook().after_val_epoch(_runner(tmp_path, str(best)))
    assert not osp.islink(mine) and mine.read_bytes() == b'mine'
    assert 'not a link made by BestCheckpointLinkHook' in caplog.text
