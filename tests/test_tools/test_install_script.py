"""tools/install.sh checks the disk before it makes a venv: a full disk is
one line naming the folder and the fix, and nothing is created."""
import os
import os.path as osp
import subprocess

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_too_little_disk_is_one_line_before_any_work(tmp_path):
    venv = tmp_path / 'venv'
    env = dict(os.environ, VENV=str(venv), MMPPM_MIN_FREE_GB='100000000')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'install.sh')],
        env=env,
        capture_output=True,
        text=True,
        timeout=60)
    assert proc.returncode == 1 and proc.stdout == ''
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('install: only ') and str(tmp_path) in lines[0]
    assert 'needs about 100000000 GiB' in lines[0] and 'set VENV' in lines[0]
    assert not venv.exists()
