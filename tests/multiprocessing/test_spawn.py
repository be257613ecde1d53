"""ember.multiprocessing: spawn runs fn(i, *args) in each process and re-raises a child's
failure in the parent with torch's exception classes; tensors sent between processes share
memory; `ember run` serves torch to its script's spawned children."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import ember
import ember.multiprocessing as mp


def _fill(i, shared):
    shared[i] = 10.0 + i


def _raise_on_one(i):
    if i == 1:
        raise ValueError(f"boom in rank {i}")


def _kill_self(i):
    if i == 0:
        os.kill(os.getpid(), signal.SIGKILL)


def _send(i, queue, done):
    queue.put(ember.full((2,), float(i)))
    done.wait()


def test_spawn_runs_every_rank_with_shared_tensors():
    shared = ember.zeros(3).share_memory_()
    assert shared.is_shared()
    mp.spawn(_fill, args=(shared,), nprocs=3)
    assert shared.tolist() == [10.0, 11.0, 12.0]


def test_child_exception_is_raised_with_its_traceback():
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(_raise_on_one, nprocs=2)
    assert info.value.error_index == 1 and "ValueError: boom in rank 1" in str(info.value)
    assert "-- Process 1 terminated with the following error:" in str(info.value)


def test_killed_child_raises_process_exited():
    with pytest.raises(mp.ProcessExitedException, match="SIGKILL") as info:
        mp.spawn(_kill_self, nprocs=1)
    assert info.value.exit_code == -signal.SIGKILL and info.value.signal_name == "SIGKILL"


def test_tensors_through_a_queue_share_memory():
    context = mp.get_context("spawn")
    queue, done = context.Queue(), context.Event()
    processes = mp.spawn(_send, args=(queue, done), nprocs=2, join=False)
    received = sorted((queue.get() for _ in range(2)), key=lambda t: t[0].item())
    done.set()
    while not processes.join():  # as torch: True once every process has finished
        pass
    assert [t.tolist() for t in received] == [[0.0, 0.0], [1.0, 1.0]]
    assert all(t.is_shared() for t in received)


def test_module_share_memory_moves_parameters():
    model = ember.nn.Linear(3, 2).share_memory()
    assert all(p.is_shared() for p in model.parameters())
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()


def test_ember_run_serves_torch_to_spawned_children(tmp_path):
    script = tmp_path / "spawned.py"
    script.write_text(textwrap.dedent("""
        import torch
        import torch.multiprocessing as mp

        def child(i, queue, done):
            queue.put((torch.__name__, type(torch.ones(1)).__module__))
            done.wait()

        if __name__ == "__main__":
            context = mp.get_context("spawn")
            queue, done = context.Queue(), context.Event()
            processes = mp.spawn(child, args=(queue, done), nprocs=1, join=False)
            print(queue.get())
            done.set()
            processes.join()
    """))
    result = subprocess.run([sys.executable, "-m", "ember", "run", str(script)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('ember', 'ember._tensor')"
