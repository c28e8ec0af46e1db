"""Copies runtime_c/ and targets/ into the wheel (as microforge/_data) at build time."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


class BuildWithData(build_py):
    def run(self):
        super().run()
        dest = Path(self.build_lib) / "microforge" / "_data"
        for folder in ("runtime_c", "targets"):
            if (ROOT / folder).is_dir():
                shutil.rmtree(dest / folder, ignore_errors=True)
                shutil.copytree(ROOT / folder, dest / folder)


setup(cmdclass={"build_py": BuildWithData})
