import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

#: What OpenMMLab packages carry under ``<package>/.mim`` (mmpose's
#: setup.py does the same): the configs, so that an installed wheel runs
#: ``configs/...`` by name (mim), and the tools and demo that run them.
MIM_FILES = ('configs', 'tools', 'demo')


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version():
    scope = {}
    with open('mmppm/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension():
    """Copy :data:`MIM_FILES` into ``mmppm/.mim`` for a wheel or sdist build
    (an editable install reads them from the repository; nothing to do).
    ``mmppm/.mim`` is build output (ignored by git), replaced on each
    build."""
    if not any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist')):
        return
    repo = osp.dirname(osp.abspath(__file__))
    mim = osp.join(repo, 'mmppm', '.mim')
    if osp.isdir(mim):
        shutil.rmtree(mim)
    os.makedirs(mim)
    for name in MIM_FILES:
        shutil.copytree(
            osp.join(repo, name),
            osp.join(mim, name),
            ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


#: The analysis library beside the tools that use it (docs/code_map.md,
#: "Where things live"); an editable install maps ``mmppm_analysis`` to it.
ANALYSIS = 'tools/analysis/mmppm_analysis'


def editable() -> bool:
    return any(cmd in sys.argv for cmd in ('editable_wheel', 'develop'))


def packages():
    """mmppm; in an editable install of a clone (tools/install.sh) also
    the side projects of projects/, which their configs import as
    ``projects.<name>`` (as mmpose's projects/), and the tools' analysis
    library :data:`ANALYSIS` as ``mmppm_analysis``: the editable finder maps
    each name to the clone's folder, so their tools run from any folder. A
    wheel or sdist installs no top-level name but mmppm (``projects`` is a
    name any other project may own); it carries tools/ (the analysis
    library included) under ``mmppm/.mim``, where a tool imports the
    library from its own folder."""
    found = find_packages(include=('mmppm', 'mmppm.*'))
    if editable():
        found += find_packages(include=('projects', 'projects.*'))
        found += ['mmppm_analysis']
    return found


def package_dir():
    """Where :func:`packages` live (only the analysis library is not at
    its name's path)."""
    if not editable():
        return {}
    return {'mmppm_analysis': ANALYSIS}


def parse_requirements(fname):
    with open(fname, encoding='utf-8') as f:
        lines = [ln.split('#')[0].strip() for ln in f]
    return [ln for ln in lines if ln]


add_mim_extension()
setup(
    name='mmppm',
    version=get_version(),
    description='Prompt Pose Matching (PPM) and Category-shared Prompt '
    'Training (CPT) for category-agnostic pose estimation, an MMPose 1.x '
    'plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=packages(),
    package_dir=package_dir(),
    include_package_data=True,
    python_requires='>=3.9',
    license='Apache License 2.0',
    # mmpose and torch are installed by tools/install.sh (mmpose without
    # its dependency chumpy, torch from a pinned build); see
    # docs/installation.md.
    install_requires=parse_requirements('requirements/runtime.txt'),
    extras_require=dict(
        tests=parse_requirements('requirements/tests.txt'),
        webui=parse_requirements('requirements/webui.txt')),
    zip_safe=False)
