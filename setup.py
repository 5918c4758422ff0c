from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version():
    scope = {}
    with open('mmppm/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def parse_requirements(fname):
    with open(fname, encoding='utf-8') as f:
        lines = [ln.split('#')[0].strip() for ln in f]
    return [ln for ln in lines if ln]


setup(
    name='mmppm',
    version=get_version(),
    description='Prompt Pose Matching (PPM) and Category-shared Prompt '
    'Training (CPT) for category-agnostic pose estimation, an MMPose 1.x '
    'plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    # mmppm, and the side projects of projects/ (imported by their configs'
    # custom_imports as projects.<name>, as mmpose's projects/).
    packages=find_packages(
        include=('mmppm', 'mmppm.*', 'projects', 'projects.*')),
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
