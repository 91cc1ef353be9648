import os
import shutil
import subprocess

import pytest

from imageboard import PROJECT_ROOT

WEB = os.path.join(PROJECT_ROOT, "web")


@pytest.fixture(scope="session")
def web_build():
    """`make web`: npm ci and the production build, each only when its inputs changed."""
    assert shutil.which("npm"), "npm is needed for the web client (apt-get install nodejs npm)"
    subprocess.run(["make", "-s", "web"], cwd=PROJECT_ROOT, check=True)
    return os.path.join(WEB, "dist")
