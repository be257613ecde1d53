"""Where ember stands on PyTorch's OpInfo database: counts by family and variant, failures.

    python -m tests.ops.opinfo_report [--status PATH] [--prune | --write-xfail] [--add]

Runs every check of tests/ops/test_opinfo.py (without pytest and without the xfail list),
prints pass / missing / raises / wrong counts by family for the function, grad, method,
inplace, alias and errors variants, and writes each failing entry with its first error to
PATH (default /work/helpers/opinfo_status.md). Entries listed in tests/ops/opinfo_xfail.py
that now pass are listed too: --prune takes them off the list (line by line). --write-xfail
rewrites the whole list from the failures found (only for starting it).
"""

import argparse
import collections
import re
import time
import warnings

from tests.ops import _opinfo
from tests.ops.opinfo_xfail import XFAIL, xfail_reason

KINDS = ("function", "grad", "method", "inplace", "alias", "errors", "float16", "bfloat16")
FAMILIES = ("elementwise unary", "elementwise binary", "reductions", "shape", "indexing",
            "nn.functional", "linalg", "fft", "special", "creation", "other")

REDUCTIONS = set("""
aminmax argsort bincount corrcoef cov cummax cummin cumprod cumsum cumulative_trapezoid diff
gradient histc histogram histogramdd kthvalue logcumsumexp logsumexp max median min mode msort
nanmedian nanquantile norm quantile sort std_mean topk trapezoid trapz unique
unique_consecutive var_mean renorm dist log_softmax softmax trace allclose equal
""".split())
SHAPE = set("""
T H mT mH alias_copy as_strided as_strided_copy atleast_1d atleast_2d atleast_3d block_diag
broadcast_shapes broadcast_tensors broadcast_to cat chunk column_stack contiguous diag
diag_embed diagflat diagonal diagonal_copy dsplit dstack expand expand_as expand_copy flatten
flip fliplr flipud hsplit hstack movedim narrow narrow_copy permute permute_copy ravel reshape
reshape_as roll rot90 split split_with_sizes split_with_sizes_copy squeeze squeeze_copy stack
t t_copy tensor_split transpose transpose_copy tril triu unbind unbind_copy unflatten unfold
unfold_copy unsafe_chunk unsafe_split unsqueeze unsqueeze_copy view view_as view_copy vsplit
vstack resize_ resize_as_ constant_pad_nd kron meshgrid cartesian_prod combinations clone
""".split())
INDEXING = set("""
__getitem__ argwhere bucketize gather index_add index_copy index_fill index_put index_reduce
index_select isin masked_fill masked_scatter masked_select nonzero nonzero_static put scatter
scatter_add scatter_reduce searchsorted select select_scatter slice slice_scatter
diagonal_scatter as_strided_scatter take take_along_dim unravel_index where
_unsafe_masked_index _unsafe_masked_index_put_accumulate
""".split())
CREATION = set("""
arange empty empty_like empty_permuted empty_strided eye full full_like linspace logspace
new_empty new_empty_strided new_full new_ones new_zeros ones ones_like rand_like randint
randint_like randn randn_like scalar_tensor tril_indices triu_indices zeros zeros_like
bernoulli multinomial normal uniform cauchy exponential geometric log_normal zero_
""".split())


def family(eid) -> str:
    """The family an entry is counted in."""
    info = _opinfo.ENTRIES[eid]
    name = info.name
    for prefix, fam in (("linalg.", "linalg"), ("fft.", "fft"), ("special.", "special"),
                        ("nn.functional.", "nn.functional")):
        if name.startswith(prefix):
            return fam
    kind = type(info).__name__
    if kind == "SpectralFuncInfo":
        return "fft"
    if kind == "UnaryUfuncInfo":
        return "elementwise unary"
    if kind == "BinaryUfuncInfo":
        return "elementwise binary"
    if kind == "ReductionOpInfo" or name in REDUCTIONS:
        return "reductions"
    for names, fam in ((SHAPE, "shape"), (INDEXING, "indexing"), (CREATION, "creation")):
        if name in names:
            return fam
    return "other"


def run():
    """{(entry_id, kind): (status, message)} for every check."""
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for eid, kind in _opinfo.checks():
            results[eid, kind] = _opinfo.outcome(eid, kind)
    return results


def table(results) -> str:
    """Counts by family (rows) and variant (columns): 'pass/total (missing m)'."""
    counts = collections.defaultdict(collections.Counter)
    for (eid, kind), (status, _) in results.items():
        key = (family(eid), kind.split("-")[0])
        counts[key][status] += 1
        counts[("all", kind.split("-")[0])][status] += 1
    entries = collections.defaultdict(collections.Counter)
    for eid in _opinfo.ENTRIES:
        ok = all(results[eid, k][0] == "pass" for k in _opinfo.kinds(eid_info(eid)))
        for fam in (family(eid), "all"):
            entries[fam]["pass" if ok else "fail"] += 1
    lines = ["| family | entries (all checks pass) | " + " | ".join(KINDS) + " |",
             "| --- | --- |" + " --- |" * len(KINDS)]
    for fam in FAMILIES + ("all",):
        e = entries[fam]
        cells = [f"{e['pass']}/{e['pass'] + e['fail']}"]
        for kind in KINDS:
            c = counts[fam, kind]
            total = sum(c.values())
            cells.append(f"{c['pass']}/{total} (miss {c['missing']})" if total else "-")
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def eid_info(eid):
    return _opinfo.ENTRIES[eid]


def failures(results) -> str:
    """The failing checks by family, each with its first error; stale xfail entries."""
    lines = []
    by_family = collections.defaultdict(list)
    for (eid, kind), (status, message) in results.items():
        if status != "pass":
            by_family[family(eid)].append(f"- `{eid}` {kind}: {status}: {message}")
    for fam in FAMILIES:
        if by_family[fam]:
            lines += ["", f"### {fam} ({len(by_family[fam])} failing checks)", ""]
            lines += by_family[fam]
    stale = [f"- `{eid}:{kind}` ({xfail_reason(eid, kind)})"
             for (eid, kind), (status, _) in results.items()
             if status == "pass" and xfail_reason(eid, kind) is not None]
    lines += ["", f"### passing but listed in tests/ops/opinfo_xfail.py ({len(stale)})", ""]
    lines += stale or ["(none)"]
    return "\n".join(lines)


def write_xfail(results, path="tests/ops/opinfo_xfail.py"):
    """Rewrite the XFAIL dict from the failures (entry key when every check fails)."""
    by_entry = collections.defaultdict(dict)
    for (eid, kind), outcome in results.items():
        by_entry[eid][kind] = outcome
    rows = []
    for eid, kinds in by_entry.items():
        failing = {k: o for k, o in kinds.items() if o[0] != "pass"}
        if not failing:
            continue
        if len(failing) == len(kinds):
            rows.append((eid, _reason(eid, next(iter(failing.values())))))
        else:
            rows += [(f"{eid}:{k}", _reason(eid, o)) for k, o in failing.items()]
    with open(path) as f:
        head = f.read().split("XFAIL = {")[0]
    body = "".join(xfail_line(key, reason) for key, reason in rows)
    with open(path, "w") as f:
        f.write(head + "XFAIL = {\n" + body + "}\n" + _TAIL)


def prune_xfail(results, path="tests/ops/opinfo_xfail.py"):
    """Take the keys of checks that now pass off the list, line by line (the rest untouched).

    An entry-level key whose entry now passes only in part becomes `entry:kind` keys for the
    checks still failing, with the same reason.
    """
    with open(path) as f:
        lines = f.read().splitlines(keepends=True)
    kept = []
    for line in lines:
        key = _key_of(line)
        if key is None:
            kept.append(line)
            continue
        eid, _, kind = key.partition(":")
        checks = [(eid, kind)] if kind else [(eid, k) for k in _opinfo.kinds(
            _opinfo.ENTRIES[eid])]
        failing = [c for c in checks if results.get(c, ("pass",))[0] != "pass"]
        if len(failing) == len(checks):
            kept.append(xfail_line(key, _tidy(XFAIL[key])))
        elif failing:
            reason = XFAIL[key]
            kept += [xfail_line(f"{e}:{k}", reason) for e, k in failing]
    with open(path, "w") as f:
        f.write("".join(kept))


def add_xfail(results, path="tests/ops/opinfo_xfail.py"):
    """Append an `entry:kind` key (with its reason) for each failing check no key covers."""
    rows = [xfail_line(f"{eid}:{kind}", _reason(eid, outcome))
            for (eid, kind), outcome in results.items()
            if outcome[0] != "pass" and xfail_reason(eid, kind) is None]
    with open(path) as f:
        text = f.read()
    head, tail = text.split("\n}\n", 1)
    with open(path, "w") as f:
        f.write(head + "\n" + "".join(rows).rstrip("\n") + "\n}\n" + tail)


def _tidy(reason):
    """A reason with its long forms shortened (missing-attribute messages, CUDA, aten)."""
    if "_JittedFunction" in reason:
        return "CUDA only"
    if "ops.aten" in reason:
        return "internal aten op"
    if "sparse_coo" in reason:
        return "sparse (#15)"
    if reason.startswith("missing: "):
        return "missing: " + _missing_name(reason.removeprefix("missing: "))
    return reason


def _key_of(line):
    """The XFAIL key a line of opinfo_xfail.py holds (None for other lines)."""
    text = line.strip()
    if not text.startswith(("'", '"')) or ":" not in text:
        return None
    key = text[1:text.index(text[0], 1)]
    return key if key in XFAIL else None


def _reason(eid, outcome):
    status, message = outcome
    info = _opinfo.ENTRIES[eid]
    dt = _opinfo.pick_dtype(info)
    if dt is None:
        return "CUDA only"
    if info.name.split(".")[0] in ("linalg", "fft", "special") or family(eid) == "fft":
        return "linalg/fft/special (#15)"
    if dt.is_complex or "complex" in eid or eid in ("view_as_real", "polar"):
        return "complex numbers (#15)"
    if "sparse" in eid:
        return "sparse (#15)"
    if "jiterator" in eid:
        return "CUDA only"
    if "ops.aten." in message or eid.startswith(("torch.ops.aten", "torch._")):
        return "internal aten op"
    if status == "missing":
        return "missing: " + _missing_name(message)
    return f"{'wrong' if status == 'wrong' else 'raises'}: {message}"


def _missing_name(message):
    """'ember.x' / 'Tensor.x' from a missing-attribute message."""
    match = re.search(r"(module '([\w.]+)'|'Tensor' object|type object 'Tensor') has no "
                      r"attribute '(\w+)'", message)
    if match is None:
        return message.removeprefix("sample 0: ")
    owner = match.group(2) or "Tensor"
    return f"{owner}.{match.group(3)}"


def xfail_line(key, reason) -> str:
    """One line of the XFAIL dict, the reason cut to keep it within 100 columns."""
    line = f"    {key!r}: {reason!r},"
    if len(line) > 100:
        room = 100 - len(f"    {key!r}: '',") - 3
        line = f"    {key!r}: {reason[:room] + '...'!r},"
    return line + "\n"


USAGE = """How to use: one entry's checks: `python -m pytest tests/ops/test_opinfo.py -q
-p no:cacheprovider -k 'acosh:'` (test ids are `entry:kind`, kind in function, grad, method,
inplace, alias-NAME, errors). When you fix one, its xfail turns the test red (XPASS strict):
delete its line(s) from `tests/ops/opinfo_xfail.py` (str_replace, one line each; keys are
`entry` for all its checks or `entry:kind`), or run `python -m tests.ops.opinfo_report
--prune`, which takes every passing key off the list (and splits an entry key whose entry
now passes in part). The harness is
tests/ops/_opinfo.py (owner: the op_db harness helper); report harness bugs here."""


_TAIL = '''

def xfail_reason(eid, kind):
    """Why the check `kind` of entry eid is expected to fail (None: it must pass)."""
    return XFAIL.get(f"{eid}:{kind}", XFAIL.get(eid))
'''


def main(argv=None):
    """Run the checks, print the table, write the status file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--status", default="/work/helpers/opinfo_status.md")
    parser.add_argument("--write-xfail", action="store_true")
    parser.add_argument("--prune", action="store_true",
                        help="take the keys of checks that now pass off the xfail list")
    parser.add_argument("--add", action="store_true",
                        help="append keys for failing checks the xfail list does not cover")
    args = parser.parse_args(argv)
    start = time.time()
    results = run()
    summary = table(results)
    print(summary)
    print(f"({len(results)} checks, {len(XFAIL)} xfail keys, {time.time() - start:.0f} s)")
    with open(args.status, "w") as f:
        f.write(f"# op_db status ({time.strftime('%Y-%m-%d %H:%M')}, "
                f"{_opinfo.SAMPLES} samples per entry)\n\n"
                "Made by `python -m tests.ops.opinfo_report` (~20 s). Counts: pass/total "
                "(missing).\n\n" + USAGE + "\n\n"
                + summary + "\n\n## Failing checks (first error)\n" + failures(results) + "\n")
    if args.write_xfail:
        write_xfail(results)
    elif args.prune:
        prune_xfail(results)
    if args.add:
        add_xfail(results)


if __name__ == "__main__":
    main()
