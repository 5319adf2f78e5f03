"""What `pip install .` ships: one version, the MIT licence file, classifiers and project URLs."""

from __future__ import annotations

import email
import importlib.metadata
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import gradienti

ROOT = Path(__file__).resolve().parent.parent
URL = "https://github.com/gradienti/gradienti"


@pytest.fixture(scope="module")
def project():
    tomllib = pytest.importorskip("tomllib")  # (Python 3.11+; 3.10 has no TOML reader)
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_once_in_the_package(project):
    # pyproject.toml takes it from src/gradienti/__init__.py (hatch's version source), so the
    # installed metadata, gradienti.__version__ and a built wheel cannot disagree.
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/gradienti/__init__.py"
    source = (ROOT / "src" / "gradienti" / "__init__.py").read_text(encoding="utf-8")
    written = re.findall(r'^__version__ = "([^"]+)"$', source, re.M)
    assert written == [gradienti.__version__] == ["0.1.0"]
    assert importlib.metadata.version("gradienti") == gradienti.__version__


def test_the_licence_file_is_mit_and_matches_the_metadata(project):
    metadata = project["project"]
    assert metadata["license"] == "MIT"
    assert metadata["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the gradienti developers\n")
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    # PEP 639: with a licence expression, no "License ::" classifier may be given as well.
    assert not any(c.startswith("License ::") for c in metadata["classifiers"])


def test_classifiers_say_python_versions_platform_and_topics(project):
    metadata = project["project"]
    classifiers = set(metadata["classifiers"])
    assert metadata["requires-python"] == ">=3.10"
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in (10, 11, 12, 13)} <= (
        classifiers
    )
    for classifier in (
        "Operating System :: OS Independent",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Topic :: Education",
    ):
        assert classifier in classifiers
    assert metadata["urls"] == {
        "Homepage": URL,
        "Documentation": f"{URL}#readme",
        "Issues": f"{URL}/issues",
    }
    # The user's install needs NumPy only; PyTorch appears in no dependency list (it is the
    # tests' oracle, installed by the developer set-up command beside the extras).
    assert metadata["dependencies"] == ["numpy>=2.1"]
    extras = metadata["optional-dependencies"]
    assert not any("torch" in requirement for group in extras.values() for requirement in group)


def test_a_built_wheel_carries_the_licence_version_and_metadata(tmp_path):
    # pip fetches hatchling for the isolated build; where no index can be reached the build is
    # skipped (the metadata tests above still ran).
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 and "hatchling" in done.stdout + done.stderr:
        pytest.skip(f"no hatchling to build with: {done.stderr.strip().splitlines()[-1:]}")
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("gradienti-*.whl")
    assert wheel.name.startswith(f"gradienti-{gradienti.__version__}-py3-none-any")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"gradienti-{gradienti.__version__}.dist-info"
        metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
        licence = archive.read(f"{info}/licenses/LICENSE").decode()
    assert licence == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert metadata["Version"] == gradienti.__version__
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert f"Project-URL: Issues, {URL}/issues" in str(metadata)
    assert metadata.get_all("Requires-Dist")[0] == "numpy>=2.1"
    assert "gradienti/__init__.py" in names and not any(n.startswith("tests/") for n in names)
    # The interactive page's template is package data: every file the page is made of ships.
    from gradienti.viz import page_html

    page_files = {f"gradienti/viz/page/{name}" for name in page_html.TEMPLATE_FILES}
    assert page_files <= set(names), page_files - set(names)
    shipped = {name for name in names if name.startswith("gradienti/viz/page/")}
    assert shipped == page_files, "a file in viz/page/ that the page does not use"
