"""No dead code in the production packages and bench/: vulture (pyproject.toml [tool.vulture])
reports nothing beyond what tests/vulture_whitelist.py names, with its reason."""
import os
import subprocess
import sys

from imageboard import PROJECT_ROOT

VULTURE = os.path.join(os.path.dirname(sys.executable), "vulture")


def test_vulture_finds_no_unused_code():
    result = subprocess.run([VULTURE], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and not result.stdout, (
        "vulture found unused code: delete it, or if a framework uses it, name it in "
        "tests/vulture_whitelist.py under its reason\n" + result.stdout + result.stderr)
