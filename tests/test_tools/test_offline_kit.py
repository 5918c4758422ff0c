"""The offline GPU kit (docs/benchmark.md, "Offline GPU kit"): its pins and
the launcher's argument handling. Nothing is downloaded or installed."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PINS = osp.join(REPO, 'requirements', 'offline_kit.txt')
LAUNCHER = osp.join(REPO, 'tools', 'run_offline_kit.sh')
MAKER = osp.join(REPO, 'tools', 'make_offline_kit.sh')


def norm(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def read_pins():
    """``{name: (version, comment)}`` and the ``# key: ...`` header lists."""
    pins, lists = {}, {}
    for line in open(PINS):
        line = line.rstrip('\n')
        m = re.match(r'# (node|skip|build-requires): (.*)', line)
        if m:
            lists[m.group(1)] = m.group(2)
            continue
        spec, _, comment = line.partition('#')
        if not spec.strip():
            continue
        name, sep, version = spec.strip().partition('==')
        assert sep and re.fullmatch(r'[0-9][0-9a-z.]*', version), line
        assert norm(name) not in pins, f'{name} pinned twice'
        pins[norm(name)] = (version, comment)
    return pins, lists


def requirement_names(path):
    names = set()
    for line in open(osp.join(REPO, 'requirements', path)):
        line = line.split('#')[0].strip()
        if line:
            names.add(norm(re.split(r'[<>=!~;\[ ]', line)[0]))
    return names


def test_pins_agree_with_constraints_or_say_why():
    pins, _ = read_pins()
    constraints = {}
    for line in open(osp.join(REPO, 'requirements', 'constraints.txt')):
        line = line.split('#')[0].strip()
        if '==' in line:
            name, version = line.split('==')
            constraints[norm(name)] = version
    for name, (version, comment) in pins.items():
        if name in constraints and version != constraints[name]:
            assert 'kit-deviation:' in comment, (
                f'{name}=={version} differs from constraints.txt '
                f'({constraints[name]}) without a "kit-deviation:" note')
        if 'build: sdist' in comment:  # not the wheel the main venv installs
            assert 'kit-deviation:' in comment, name


def test_every_source_patch_belongs_to_a_wheel_built_from_source():
    pins, _ = read_pins()
    folder = osp.join(REPO, 'requirements', 'offline_kit_patches')
    for name in os.listdir(folder):
        package, version = name[:-len('.patch')].rsplit('-', 1)
        assert pins[norm(package)][0] == version, name
        assert 'build: sdist' in pins[norm(package)][1], name


def test_every_runtime_requirement_is_shipped_brought_or_skipped():
    pins, lists = read_pins()
    node = {norm(n) for n in lists['node'].split()}
    skip = {
        norm(re.match(r'\s*([\w.-]+)', part).group(1))
        for part in lists['skip'].split(',')
    }
    assert not node & set(pins), 'the kit ships what the node brings'
    for name in requirement_names('runtime.txt') | {'mmpose'}:
        assert name in pins or name in node or name in skip, name
    # the build tools of sdist-built wheels are pinned too
    assert all('==' in r for r in lists['build-requires'].split())


def test_stub_pth_line_installs_the_finder():
    line = subprocess.run([
        sys.executable,
        osp.join(REPO, 'mmppm/compat/mmcv_ext_stub.py'), '--pth-line'
    ],
                          capture_output=True,
                          text=True,
                          check=True).stdout
    assert osp.join(REPO, 'mmppm/compat/mmcv_ext_stub.py') in line
    code = line.strip() + ('\nimport sys\nassert any(getattr(f, "__mmppm_stub'
                           '__", False) for f in sys.meta_path)')
    subprocess.run([sys.executable, '-S', '-c', code], check=True)


@pytest.fixture
def kit(tmp_path):
    folder = tmp_path / 'kit'
    folder.mkdir()
    (folder / 'manifest.txt').write_text('a-1-py3-none-any.whl 1 0\n')
    return folder


def launch(*args):
    proc = subprocess.run(['bash', LAUNCHER, *map(str, args)],
                          capture_output=True,
                          text=True,
                          timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def test_launcher_plan(kit, tmp_path):
    rc, out = launch('--dry-run', '--smoke', '--only', 'bench', kit,
                     tmp_path / 'out')
    assert rc == 0, out
    assert 'parts:  bench' in out and 'SMOKE=1' in out
    assert 'toy:' not in out
    assert not (tmp_path / 'out').exists()  # a dry run creates nothing
    rc, out = launch('--dry-run', '--only=toy,tests', kit, tmp_path / 'out')
    assert rc == 0 and 'parts:  toy tests' in out, out
    assert '--vae-iters 1500 --unet-iters 3000' in out  # the shipped model's


@pytest.mark.parametrize('args, message', [
    ((), 'need KIT and OUT'),
    (('--only', 'train'), "unknown part 'train'"),
    (('--bogus', ), 'unknown option --bogus'),
])
def test_launcher_rejects_bad_arguments(kit, tmp_path, args, message):
    rc, out = launch(*args, *(() if not args else (kit, tmp_path / 'o')))
    assert rc == 2 and message in out, out


def test_launcher_needs_a_kit(tmp_path):
    rc, out = launch('--dry-run', tmp_path, tmp_path / 'out')
    assert rc == 2 and 'no manifest.txt' in out, out


def test_launcher_refuses_a_folder_it_did_not_make(kit, tmp_path):
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    (out_dir / 'results.json').write_text('{}')
    rc, out = launch(kit, out_dir)  # not a dry run: must stop before all
    assert rc == 2 and 'not made by this script' in out, out
    assert sorted(p.name for p in out_dir.iterdir()) == ['results.json']
    rc, out = launch('--force', '--dry-run', kit, out_dir)
    assert rc == 0, out
    # a folder the launcher made (its marker) is reused without --force
    (out_dir / 'results.json').unlink()
    (out_dir / '.mmppm_offline_kit_out').touch()
    (out_dir / 'run.log').write_text('')
    rc, out = launch('--dry-run', kit, out_dir)
    assert rc == 0, out


def test_kit_builder_refuses_a_folder_that_holds_no_kit(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    proc = subprocess.run(['bash', MAKER, str(tmp_path)],
                          capture_output=True,
                          text=True,
                          timeout=60)
    assert proc.returncode == 2 and 'holds no kit' in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ['notes.txt']
