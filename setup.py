"""The packages of the distribution: those under ``src/`` and ``deblurzoo.conf``, the configs.

Everything else is in ``pyproject.toml``, which maps ``deblurzoo.conf`` onto the repository's
``conf/`` folder (``package-dir``) and ships its YAML files (``package-data``). Its ``packages``
setting cannot add packages to the ones ``find`` discovers, so the list is made here. Each
config group folder (``conf/trainer``, ``conf/model/common``, ...) is importable, so setuptools
counts it as a package of its own.
"""

from setuptools import find_namespace_packages, find_packages, setup

CONFIG_GROUPS = find_namespace_packages("conf", exclude=["__pycache__", "*.__pycache__"])

setup(
    packages=[
        *find_packages("src"),
        "deblurzoo.conf",
        *(f"deblurzoo.conf.{group}" for group in CONFIG_GROUPS),
    ]
)
