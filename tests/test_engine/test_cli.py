# Copyright (c) mmppm contributors. All rights reserved.
"""run_tool and the start-up checks: what a user sees when things fail."""
import errno
import json
import shutil

import pytest
import torch

from mmppm.engine.cli import load_tool_config, run_tool, user_message
from mmppm.utils.errors import ToolError


class _Failing(torch.utils.data.Dataset):

    def __len__(self):
        return 2

    def __getitem__(self, i):
        raise ValueError('cannot decode image x.jpg (annotation id 7)')


def test_a_data_error_in_a_loader_worker_is_its_own_line():
    # two workers, as the MP-100 configs load
    loader = torch.utils.data.DataLoader(_Failing(), num_workers=2)
    with pytest.raises(ValueError) as e:
        next(iter(loader))
    assert 'Original Traceback' in str(e.value)  # how torch re-raises it
    assert user_message(e.value) == ('cannot decode image x.jpg '
                                     '(annotation id 7)')


def _exit_message(main, capsys, monkeypatch, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv('MMPPM_DEBUG', raising=False)
    with pytest.raises(SystemExit) as e:
        run_tool(main)
    assert e.value.code == 1
    return capsys.readouterr().err


def test_disk_full_says_what_is_kept_and_how_to_continue(capsys, monkeypatch):

    def main(argv):
        raise OSError(errno.ENOSPC, 'No space left on device', 'w/iter_8.pth')

    err = _exit_message(main, capsys, monkeypatch)
    assert err.startswith('error: disk full while writing w/iter_8.pth: the '
                          'finished work is kept')
    assert 'rerun the same command' in err and 'Traceback' not in err


def test_each_process_reports_its_own_error_once(capsys, monkeypatch):
    from mmppm.utils.errors import MissingFileError

    def data_error(argv):
        raise MissingFileError('Image file not found: a.jpg')

    err = _exit_message(
        data_error, capsys, monkeypatch, RANK='1', WORLD_SIZE='2')
    assert err.splitlines()[0] == ('error (process 1): Image file not '
                                   'found: a.jpg')

    def peer_died(argv):
        raise RuntimeError('[../third_party/gloo/gloo/transport/tcp/pair.cc'
                           ':534] Connection closed by peer [127.0.0.1]:1')

    err = _exit_message(
        peer_died, capsys, monkeypatch, RANK='0', WORLD_SIZE='2')
    assert err.splitlines()[0] == (
        'error (process 0): another process of this run failed (its error '
        'is printed by it); this one stopped at a collective operation')


@pytest.mark.parametrize('error', [
    RuntimeError('index out of range in self'),
    ValueError('cannot reshape array of size 3 into shape (2)'),
    FileNotFoundError('/tmp/internal/cache.bin'),
])
def test_internal_bugs_keep_their_traceback(monkeypatch, error):
    """Only the project's UserError is a one-liner: a plain ValueError or
    FileNotFoundError is a bug's (it used to be hidden as a user error)."""
    monkeypatch.delenv('MMPPM_DEBUG', raising=False)

    def bug(argv):
        raise error

    with pytest.raises(type(error)):
        run_tool(bug)


def test_launcher_pytorch_outside_torchrun(tmp_path, monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        monkeypatch.delenv(key, raising=False)
    cfg = tmp_path / 'c.py'
    cfg.write_text('model = dict()\n')
    with pytest.raises(
            ToolError,
            match='--launcher pytorch needs the '
            'environment torchrun sets'):
        load_tool_config(str(cfg), None, 'pytorch')


def test_cuda_device_without_a_gpu(monkeypatch):
    from mmppm.apis.inference import check_device
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(
            ValueError, match="device 'cuda': no CUDA GPU is "
            'available'):
        check_device('cuda')
    with pytest.raises(ValueError, match='is not a torch device'):
        check_device('gpu0')
    check_device('cpu')


def test_a_wrongly_typed_unet_config_value_is_named(random_sd_dir, tmp_path):
    from mmppm.utils import SDWeightsNotFoundError, load_sd_components
    folder = shutil.copytree(random_sd_dir, tmp_path / 'sd')
    cfg_file = folder / 'unet' / 'config.json'
    cfg = json.loads(cfg_file.read_text())
    cfg['norm_num_groups'] = '8'
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(
            SDWeightsNotFoundError,
            match=r'Could not build "unet" of Stable Diffusion '
            r'from .*: TypeError: .*; its unet/config.json holds a '
            r'value of the wrong type') as e:
        load_sd_components(str(folder))
    assert '\n' not in str(e.value)


@pytest.mark.parametrize('option, problem', [
    ('key', 'no key=value'),
    ('=3', 'no key=value'),
    ('a=[1,2', 'AssertionError: Imbalanced brackets'),
    ('a=(1,', 'AssertionError: Imbalanced brackets'),
])
def test_malformed_cfg_options_are_one_argparse_line(option, problem, capsys):
    """They were ValueError / AssertionError tracebacks (mmengine's
    DictAction); every tool's --cfg-options uses this action."""
    import argparse

    from mmppm.engine.cli.args import CfgOptionsAction
    parser = argparse.ArgumentParser(prog='tool')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction, default={})
    assert parser.parse_args(
        ['--cfg-options', 'a=1', 'b=[1,2]', 'c=(1,2)', 'd=x']).cfg_options \
        == {'a': 1, 'b': [1, 2], 'c': (1, 2), 'd': 'x'}
    with pytest.raises(SystemExit):
        parser.parse_args(['--cfg-options', 'ok=1', option])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f'tool: error: --cfg-options {option!r} is '
                          f'malformed ({problem}')
