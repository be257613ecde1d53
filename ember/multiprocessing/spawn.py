"""`torch.multiprocessing.spawn`: run fn(i, *args) in nprocs processes; if one fails, stop the
others and raise in the parent with the child's traceback (matches torch's classes)."""

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import tempfile
import time
import traceback


class ProcessException(Exception):
    """A spawned process failed (matches `torch.multiprocessing.ProcessException`)."""

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """The process's code raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """The process exited with a non-zero code or was killed by a signal."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code,
                            self.signal_name)


def _wrap(fn, i, args, error_file):
    """Run in the child: fn(i, *args); on an exception, leave its traceback for the parent."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        with open(error_file, "w") as out:
            out.write(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The spawned processes; `join` waits and raises the first failure."""

    def __init__(self, processes, error_files):
        self.processes, self.error_files = processes, error_files
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None, grace_period=None) -> bool:
        """True when all finished cleanly, False on timeout; raises if any process failed."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0 and failed is None:
                failed = index
        if failed is None:
            return not self.sentinels
        self._stop_the_rest(grace_period)
        raise self._failure(failed)

    def _stop_the_rest(self, grace_period):
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + (grace_period or 5)
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()

    def _failure(self, index):
        process, error_file = self.processes[index], self.error_files[index]
        if os.path.exists(error_file) and os.path.getsize(error_file):
            with open(error_file) as source:
                original = source.read()
            msg = f"\n\n-- Process {index} terminated with the following error:\n{original}"
            return ProcessRaisedException(msg, index, process.pid)
        code = process.exitcode
        if code < 0:
            name = signal.Signals(-code).name
            return ProcessExitedException(f"process {index} terminated with signal {name}",
                                          index, process.pid, code, name)
        return ProcessExitedException(f"process {index} terminated with exit code {code}",
                                      index, process.pid, code)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start nprocs processes running fn(i, *args) with the given start method."""
    context = multiprocessing.get_context(start_method)
    directory = tempfile.mkdtemp(prefix="ember-spawn-")
    processes, error_files = [], []
    for i in range(nprocs):
        error_file = os.path.join(directory, f"error-{i}")
        process = context.Process(target=_wrap, args=(fn, i, args, error_file), daemon=daemon)
        process.start()
        processes.append(process)
        error_files.append(error_file)
    process_context = ProcessContext(processes, error_files)
    if not join:
        return process_context
    while not process_context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Spawn nprocs processes running fn(i, *args) (matches `torch.multiprocessing.spawn`)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
