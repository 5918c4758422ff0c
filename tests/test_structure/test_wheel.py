# Copyright (c) mmppm contributors. All rights reserved.
"""The wheel built from the repository (``pip wheel .``) installs the
package and its configs under ``mmppm/.mim/`` (as mmpose's does), and no
other top-level name (``projects`` stays in the clone)."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'requirements', 'mmppm',
           'configs', 'tools', 'demo', 'projects')


@pytest.fixture(scope='module')
def wheel_names(tmp_path_factory):
    """The file names in a wheel built from a copy of the sources (the
    build writes ``mmppm/.mim`` and ``build/`` into the tree it builds)."""
    src = tmp_path_factory.mktemp('src')
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(
                path,
                src / name,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc', '.mim'))
        else:
            shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '-q', '-w',
        str(out),
        str(src)
    ],
                   check=True,
                   capture_output=True)
    wheel, = out.glob('mmppm-*.whl')
    return zipfile.ZipFile(wheel).namelist()


def test_the_wheel_installs_mmppm_only(wheel_names):
    top = {name.split('/')[0] for name in wheel_names}
    assert top == {'mmppm', next(t for t in top if t.endswith('.dist-info'))}
    assert not any(name.startswith('projects/') for name in wheel_names)
    # the tools' analysis library travels with the tools, not as a package
    assert 'mmppm/.mim/tools/analysis/mmppm_analysis/toy_runs.py' in \
        wheel_names


def test_the_wheel_carries_the_configs_under_mim(wheel_names):
    shipped = {
        'mmppm/.mim/' + str(p.relative_to(REPO))
        for p in (REPO / 'configs').rglob('*.py')
    }
    assert shipped and shipped <= set(wheel_names)
    assert 'mmppm/.mim/tools/test.py' in wheel_names
    assert 'mmppm/.mim/tools/dist_train.sh' in wheel_names
    assert 'mmppm/models/pose_estimators/ppm_estimator.py' in wheel_names
