"""Start a script on real ranks with ember's launcher, for the distributed tests."""

import os
import subprocess
import sys

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(SCRIPTS)))


TORCHRUN = ("-m", "torch.distributed.run", "--standalone")
EMBER = ("-m", "ember", "run")


def _command(script, args, nproc, launcher, flags):
    path = script if os.path.isabs(script) or flags else os.path.join(SCRIPTS, script)
    return [sys.executable, *launcher, "--nproc-per-node", str(nproc), *flags, path,
            *map(str, args)]


def _environment():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def launch(script, *args, nproc=2, launcher=EMBER, flags=(), timeout=180):
    """Run tests/distributed/scripts/<script> (or, given flags such as -m, script as it is) on
    nproc ranks, flags after --nproc-per-node; the finished process."""
    return subprocess.run(_command(script, args, nproc, launcher, flags), capture_output=True,
                          text=True, timeout=timeout, env=_environment(), cwd=ROOT)


def launch_under_torch_and_ember(script, torch_args, ember_args, timeout=240):
    """The same script under real torchrun and under `ember run`, 2 ranks each, both jobs at
    once (torchrun spends most of its start waiting); (torch's, ember's) finished processes."""
    jobs = [subprocess.Popen(_command(script, args, 2, launcher, ()), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=_environment(), cwd=ROOT)
            for launcher, args in ((TORCHRUN, torch_args), (EMBER, ember_args))]
    finished = []
    for job in jobs:
        try:
            stdout, stderr = job.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in jobs:
                other.kill()
            raise
        finished.append(subprocess.CompletedProcess(job.args, job.returncode, stdout, stderr))
    return tuple(finished)
