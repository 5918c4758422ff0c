"""The mmcv-lite stand-in works whatever the import order."""
import subprocess
import sys

import pytest

from mmppm.compat.mmcv_ext_stub import has_compiled_mmcv_ops


@pytest.mark.skipif(
    has_compiled_mmcv_ops(),
    reason='a full mmcv with compiled ops is installed')
def test_mmpose_models_before_mmppm_imports():
    code = ('import mmpose.models\n'
            'import mmcv._ext as ext\n'
            'assert getattr(ext, "__mmppm_stub__", False)\n'
            'try:\n'
            '    ext.nms()\n'
            'except RuntimeError as e:\n'
            '    assert "mmcv-lite" in str(e)\n'
            'else:\n'
            '    raise AssertionError("the stub op did not raise")\n'
            'import mmppm\n'
            'print("ok")\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith('ok')


def test_finder_only_answers_for_mmcv_ext():
    from mmppm.compat.mmcv_ext_stub import StubFinder
    finder = StubFinder()
    assert finder.find_spec('numpy') is None
    spec = finder.find_spec('mmcv._ext')
    assert spec.name == 'mmcv._ext'
    module = spec.loader.create_module(spec)
    spec.loader.exec_module(module)
    assert module.__spec__.loader is None
