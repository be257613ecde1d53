"""Start a script on real ranks with ember's launcher, for the distributed tests."""

import os
import subprocess
import sys

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(SCRIPTS)))


def launch(script, *args, nproc=2, launcher=("-m", "ember", "run"), timeout=180):
    """Run tests/distributed/scripts/<script> on nproc ranks; the finished process."""
    path = script if os.path.isabs(script) else os.path.join(SCRIPTS, script)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, *launcher, "--nproc-per-node", str(nproc), path, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)
