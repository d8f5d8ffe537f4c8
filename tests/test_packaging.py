"""`pip install .` as an operator runs it: the wheel builds without warnings and ships what the
bot needs at run time (the protocol's HTML template)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_builds_without_warnings_and_ships_the_templates(tmp_path):
    # From a copy: setuptools leaves build/ behind, and a stale one would be shipped next time.
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "demo-out", "data", ".*_cache", "node_modules"
    )
    shutil.copytree(ROOT, source, ignore=skip)
    wheels = tmp_path / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "--wheel-dir", str(wheels), str(source)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]
    # setuptools' 40 lines about minutes.templates, "absent from the `packages` configuration"
    assert "BuildBackendWarning" not in said and "SetuptoolsDeprecationWarning" not in said, said[-3000:]
    (wheel,) = wheels.glob("distansbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "minutes/templates/protocol.html.j2" in names
    assert {"web/static/view.html", "web/static/widget.js", "web/static/view.css"} <= names  # the live view's page
    assert {"bot.py", "config.py", "shell/__init__.py", "shell/loop.py", "minutes/page.py", "rules/meeting.py"} <= names
    assert {"rules/events/items.py", "rules/state/items.py"} <= names  # the subpackages of the rules
