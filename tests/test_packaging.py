"""A wheel is complete: built from the sources and installed into a fresh virtual environment, it
holds every config of ``conf/`` (as the package ``deblurzoo.conf``) and its commands find them
when run from any folder. Nothing is downloaded: the wheel is built with the setuptools
installed here, and the fresh environment reaches the installed dependencies through a ``.pth``
file (which does not carry this environment's editable install of deblurzoo)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "src", "conf")


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel built from a copy of the sources (a build writes into the tree it builds) and
    the build's log (``pip -v``: with setuptools' warnings)."""
    pytest.importorskip("setuptools")  # `make install` installs it (the dev extra)
    tree = tmp_path_factory.mktemp("sources")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    dist = tree / "dist"
    log = _run(
        sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
        "--no-index", "--wheel-dir", dist, ".", cwd=tree,
    )  # fmt: skip
    return next(dist.glob("deblurzoo-*.whl")), log.stdout + log.stderr


@pytest.fixture(scope="module")
def wheel(build: tuple[Path, str]) -> Path:
    return build[0]


def test_the_build_uses_no_deprecated_setuptools_config(build: tuple[Path, str]) -> None:
    """Deprecations become errors on setuptools' date (``project.license`` as a table: 2027-02-18);
    the licence is an SPDX expression (PEP 639) in the wheel's metadata."""
    wheel, log = build
    assert "SetuptoolsDeprecationWarning" not in log, log
    metadata = zipfile.ZipFile(wheel).read("deblurzoo-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata.splitlines()


def test_the_wheel_holds_every_config(wheel: Path) -> None:
    shipped = {
        name.removeprefix("deblurzoo/conf/")
        for name in zipfile.ZipFile(wheel).namelist()
        if name.startswith("deblurzoo/conf/") and name.endswith(".yaml")
    }
    configs = {path.relative_to(REPO / "conf").as_posix() for path in REPO.glob("conf/**/*.yaml")}
    assert shipped == configs


def test_an_installed_wheel_finds_its_configs_from_any_folder(wheel: Path, tmp_path: Path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    )
    (Path(site.stdout.strip()) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        wheel, cwd=tmp_path,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    where = _run(python, "-c", "import deblurzoo.conf as c; print(c.CONFIG_DIR)", cwd=elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    help_ = _run(venv / "bin" / "deblurzoo-train", "--help", cwd=elsewhere).stdout
    assert "trainer: cpu, ddp, ddp_cpu, default, gpu" in help_
    composed = _run(venv / "bin" / "deblurzoo-eval", "--cfg", "job", cwd=elsewhere).stdout
    assert "task_name: eval" in composed and "_target_: lightning.Trainer" in composed
