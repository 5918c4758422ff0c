# Copyright (c) mmppm contributors. All rights reserved.
"""The layer contracts of mmppm/ (setup.cfg ``[importlinter]``,
docs/code_map.md): kept by the tree, broken by a new upward import, and no
import circle between any two sibling folders or modules."""
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name('lint-imports')


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the ``mmppm`` package found first under
    ``root``."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [str(LINT_IMPORTS), '--config',
         str(REPO / 'setup.cfg'), '--no-cache'],
        cwd=root,
        env=env,
        capture_output=True,
        text=True)


@pytest.fixture(scope='module')
def package_copy(tmp_path_factory):
    """The package's Python files, copied (the contracts read imports
    only)."""
    root = tmp_path_factory.mktemp('tree')
    shutil.copytree(
        REPO / 'mmppm',
        root / 'mmppm',
        ignore=lambda d, names: [
            n for n in names if not (n.endswith('.py') or os.path.isdir(
                os.path.join(d, n))) or n == '__pycache__'
        ])
    return root


def test_the_tree_keeps_the_contracts(package_copy):
    result = lint_imports(package_copy)
    assert result.returncode == 0, result.stdout[-2000:]
    assert 'Contracts: 2 kept, 0 broken.' in result.stdout


@pytest.mark.parametrize(
    'module, upward',
    [
        ('utils/numerics.py', 'mmppm.models'),
        ('models/backbones/text_prompts.py', 'mmppm.models.heads'),
        ('datasets/json_io.py', 'mmppm.engine'),
        # the tools' analysis library sits above the package it analyses
        ('models/map_modes/base.py', 'mmppm_analysis'),
    ])
def test_an_upward_import_breaks_a_contract(package_copy, tmp_path, module,
                                            upward):
    root = tmp_path / 'tree'
    shutil.copytree(package_copy, root)
    path = root / 'mmppm' / module
    path.write_text(path.read_text() + f'\nimport {upward}  # noqa\n')
    result = lint_imports(root)
    assert result.returncode != 0
    assert f'is not allowed to import {upward}' in result.stdout


def test_no_import_circle_between_siblings():
    """Functions' own imports count too (grimp reads them): an import moved
    into a function to dodge a cycle is still a cycle."""
    graph = grimp.build_graph('mmppm')
    circles = []
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        children = sorted(graph.find_children(package))
        for a, b in itertools.combinations(children, 2):
            if graph.chain_exists(a, b, as_packages=True) and \
                    graph.chain_exists(b, a, as_packages=True):
                circles.append((a, b))
    assert circles == []
