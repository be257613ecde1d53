"""ember/_allocator.py (NOTE [Freed arrays stay with the process]): glibc's thresholds are set
once at import, and left alone when the user set them or opted out; freed arrays are then
reused without page faults."""

import os
import subprocess
import sys

import pytest

import ember
from ember import _allocator

GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None


def _active_in_fresh_process(**env):
    """ember._allocator.ACTIVE in a new interpreter with `env` added to the environment."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                                "EMBER_KEEP_MALLOC")}
    environment.update(env)
    code = "import ember._allocator as a; print(a.ACTIVE)"
    out = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="mallopt thresholds exist only in glibc")
def test_set_at_import_on_glibc():
    assert _allocator.ACTIVE is True
    assert _active_in_fresh_process() == "True"


@pytest.mark.parametrize("env", [{"EMBER_KEEP_MALLOC": "1"},
                                 {"MALLOC_TRIM_THRESHOLD_": "131072"},
                                 {"MALLOC_MMAP_THRESHOLD_": "131072"}])
def test_left_alone_when_the_user_chose(env):
    assert _active_in_fresh_process(**env) == "False"


@pytest.mark.skipif(not GLIBC, reason="mallopt thresholds exist only in glibc")
def test_a_repeated_step_reuses_its_memory_without_page_faults():
    resource = pytest.importorskip("resource")
    x = ember.randn(400, 1000, requires_grad=True)

    def step():
        (x.exp() * 2).log_softmax(1).sum().backward()

    step()
    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 1000  # 1.6 MB temporaries: about 9,000 faults without the thresholds
