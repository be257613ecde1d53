"""The key-value stores (HashStore, FileStore, TCPStore, PrefixStore) against torch's own, in one
process: the same calls on both, the same results, errors and messages."""

import datetime
import os
import subprocess
import sys

import pytest
import torch.distributed as torch_dist

import ember.distributed as dist

SHORT = datetime.timedelta(milliseconds=50)


def outcome(call):
    """What a call returned, or the type and first line of the error it raised."""
    try:
        value = call()
    except Exception as error:  # the error is the outcome compared
        return ("raised", type(error).__name__, str(error).splitlines()[0])
    return sorted(value) if isinstance(value, list) and value and isinstance(value[0], str) \
        else value


def script(store, d):
    """Every operation of the Store API, errors included; the list of outcomes."""
    store.set_timeout(SHORT)
    steps = [lambda: store.timeout, lambda: store.set("a", "x"), lambda: store.set("b", b"\xff\0"),
             lambda: store.get("a"), lambda: store.get("b"), lambda: store.add("c", 3),
             lambda: store.add("c", -5), lambda: store.get("c"),
             lambda: store.num_keys(), lambda: store.check(["a", "zz"]),
             lambda: store.check(["a"]), lambda: store.check([]),
             lambda: store.delete_key("a"), lambda: store.check(["a"]),
             lambda: store.compare_set("k", "", "v1"), lambda: store.compare_set("k", "v0", "v2"),
             lambda: store.compare_set("k", "v1", "v2"), lambda: store.get("k"),
             lambda: store.compare_set("missing", "x", "y"), lambda: store.check(["missing"]),
             lambda: store.append("k", "zz"), lambda: store.get("k"),
             lambda: store.append("new", b"q"), lambda: store.get("new"),
             lambda: store.multi_set(["m1", "m2"], ["1", b"2"]),
             lambda: store.multi_get(["m1", "m2"]), lambda: store.get("nothing"),
             lambda: store.wait(["k", "m1"]), lambda: store.wait(["k", "nothing"]),
             lambda: store.wait(["nothing"], datetime.timedelta(milliseconds=20)),
             lambda: store.set(1, "x"), lambda: store.add("c", 1.5),
             lambda: store.has_extended_api(), lambda: store.num_keys()]
    tcp = isinstance(store, (torch_dist.TCPStore, dist.TCPStore))
    if not tcp:  # torch's TCPStore server drops the connection instead of raising these
        steps += [lambda: store.add("a", 1), lambda: store.set("n", " 12abc"),
                  lambda: store.add("n", 1)]
    if not isinstance(store, (torch_dist.FileStore, dist.FileStore)):
        steps += [lambda: store.list_keys(), lambda: store.delete_key("gone"),
                  lambda: store.queue_push("q", "a"), lambda: store.queue_push("q", b"b"),
                  lambda: store.queue_len("q"), lambda: store.queue_pop("q"),
                  lambda: store.queue_pop("q", block=False),
                  lambda: store.queue_pop("q", block=False)]
        steps += [] if tcp else [lambda: store.queue_pop("q")]
    return [outcome(step) for step in steps]


def normalised(outcomes):
    """Python's TypeError wording for a bad argument differs from pybind's past its first line."""
    return [o[:2] if isinstance(o, tuple) and o[:2] == ("raised", "TypeError") else o
            for o in outcomes]


def test_hash_store_matches_torch():
    assert normalised(script(dist.HashStore(), dist)) == normalised(
        script(torch_dist.HashStore(), torch_dist))


def test_prefix_store_matches_torch():
    results = []
    for d in (torch_dist, dist):
        base = d.HashStore()
        store = d.PrefixStore("pre", base)
        outcomes = script(store, d)
        outcomes += [outcome(lambda: base.get("pre/k")), store.underlying_store is base,
                     outcome(lambda: base.list_keys())]
        results.append(normalised(outcomes))
    assert results[0] == results[1]


def test_file_store_matches_torch_and_shares_its_file(tmp_path):
    results = []
    for d in (torch_dist, dist):
        path = str(tmp_path / f"{d.__name__}.store")
        store = d.FileStore(path, 1)
        results.append(normalised(script(store, d)) + [d.FileStore(path).timeout])
        del store
        results[-1].append(os.path.exists(path))  # the last of world_size stores removes it
    assert results[0] == results[1]
    # both write the same file format: one reads what the other wrote
    path = str(tmp_path / "shared")
    theirs, ours = torch_dist.FileStore(path, 2), dist.FileStore(path, 2)
    theirs.set("from torch", "1")
    ours.set("from ember", b"2")
    ours.add("count", 5)
    assert ours.get("from torch") == b"1" and theirs.get("from ember") == b"2"
    assert theirs.add("count", 1) == 6 and ours.num_keys() == theirs.num_keys()


def test_tcp_store_matches_torch():
    results = []
    for d in (torch_dist, dist):
        master = d.TCPStore("127.0.0.1", 0, 1, True, timeout=datetime.timedelta(seconds=2))
        client = d.TCPStore("127.0.0.1", master.port, is_master=False,
                            timeout=datetime.timedelta(seconds=2))
        outcomes = [master.num_keys(), master.host, client.port == master.port]
        outcomes += normalised(script(client, d))
        port = master.port
        outcomes += [master.get("k"), outcome(lambda: d.TCPStore(
            "127.0.0.1", port, is_master=True, timeout=SHORT))[:2]]
        results.append(outcomes)
        del client, master
    assert results[0] == results[1]


def test_errors_and_debug_level_match_torch(monkeypatch):
    for name in ("DistError", "DistBackendError", "DistNetworkError", "DistStoreError",
                 "QueueEmptyError"):
        ours, theirs = getattr(dist, name), getattr(torch_dist, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
        assert ours.__module__ == theirs.__module__ == "torch.distributed"
    assert [repr(x) for x in dist.DebugLevel.__members__.values()] == [
        repr(x) for x in torch_dist.DebugLevel.__members__.values()]
    assert (dist.DebugLevel.INFO == 1) is (torch_dist.DebugLevel.INFO == 1) is False
    for d in (dist, torch_dist):
        d.set_debug_level(d.DebugLevel.DETAIL)
        assert repr(d.get_debug_level()) == "<DebugLevel.DETAIL: 2>"
        monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "info")
        d.set_debug_level_from_env()
        assert repr(d.get_debug_level()) == "<DebugLevel.INFO: 1>"
        monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "loud")
        with pytest.raises(ValueError, match="must be OFF, INFO, or DETAIL"):
            d.set_debug_level_from_env()
        with pytest.raises(TypeError):
            d.set_debug_level(1)
        monkeypatch.delenv("TORCH_DISTRIBUTED_DEBUG")
        d.set_debug_level_from_env()


def test_backend_queries_match_torch():
    for name in ("gloo", "nccl", "ucc", "xccl", "fake", "undefined", "carrier-pigeon",
                 "cpu:gloo", "cpu:gloo,cuda:nccl"):
        assert dist.is_backend_available(name) == torch_dist.is_backend_available(name), name
    assert dist.is_ucc_available() == dist.is_xccl_available() == False  # noqa: E712
    for device in ("cpu", "cuda", "mps"):
        assert dist.get_default_backend_for_device(device) == \
            torch_dist.get_default_backend_for_device(device)
    for d in (dist, torch_dist):
        with pytest.raises(ValueError, match="Default backend not registered for device : meta"):
            d.get_default_backend_for_device("meta")
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert dist.supports_complex(getattr(dist.ReduceOp, op)) == \
            torch_dist.supports_complex(getattr(torch_dist.ReduceOp, op))
    assert dist.default_pg_timeout == torch_dist.default_pg_timeout
    assert dist.get_pg_count() == torch_dist.get_pg_count() == 0
    assert dist.Backend.backend_list == torch_dist.Backend.backend_list


STORE_INIT = """
import {lib} as torch
d = torch.distributed
s = d.HashStore()
for kw in (dict(store=s, init_method='env://'), dict(store=s), dict(store=s, world_size=1)):
    try:
        d.init_process_group('gloo', **kw)
    except AssertionError as e:
        print('AssertionError', e)
d.init_process_group('gloo', store=s, rank=0, world_size=1)
print(d.get_world_size(), d.get_rank(), d.get_pg_count())
t = torch.arange(3.0)
d.all_reduce(t)
print(t.tolist())
d.destroy_process_group()
print(d.get_pg_count())
"""


def test_init_process_group_with_a_store_as_torch():
    """A store replaces the rendezvous (no MASTER_ADDR needed); torch's checks of its args."""
    env = {k: v for k, v in os.environ.items() if k not in ("MASTER_ADDR", "MASTER_PORT")}
    outputs = [subprocess.run([sys.executable, "-c", STORE_INIT.format(lib=lib)], env=env,
                              capture_output=True, text=True, timeout=120)
               for lib in ("torch", "ember")]
    assert outputs[0].returncode == outputs[1].returncode == 0, outputs[1].stderr[-2000:]
    assert outputs[1].stdout == outputs[0].stdout
    assert outputs[1].stdout.count("AssertionError") == 3
