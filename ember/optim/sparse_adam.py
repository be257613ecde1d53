"""SparseAdam: Adam's moments and step applied only at the rows a sparse gradient names."""

import math

from ember._backend import xp
from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, _is_sparse, _require


def sparse_adam_update(param, indices, values, step: int, exp_avg, exp_avg_sq, *, lr, beta1,
                       beta2, eps):
    """One SparseAdam step (torch's `_functional.sparse_adam`) in place on arrays, from a
    coalesced gradient: `indices` (sparse_dim, nnz) and `values` (nnz, ...).

    At the named rows only:  m += (g - m)·(1-β1);  v += (g² - v)·(1-β2);
    p -= lr·√(1-β2ᵗ)/(1-β1ᵗ) · m / (√v + ε)
    (the new moments are formed as old + update, in PyTorch's order of operations).
    """
    rows = tuple(indices)
    old_exp_avg = exp_avg[rows]
    exp_avg_update = (values - old_exp_avg) * (1 - beta1)
    exp_avg[rows] += exp_avg_update
    old_exp_avg_sq = exp_avg_sq[rows]
    exp_avg_sq_update = (values ** 2 - old_exp_avg_sq) * (1 - beta2)
    exp_avg_sq[rows] += exp_avg_sq_update
    numer = exp_avg_update + old_exp_avg
    denom = xp.sqrt(exp_avg_sq_update + old_exp_avg_sq) + eps
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    param[rows] += -step_size * (numer / denom)


class SparseAdam(Optimizer):
    """Adam masked to the rows of sparse gradients, e.g. those of `nn.Embedding(sparse=True)`
    (matches `torch.optim.SparseAdam`); a dense gradient is refused."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _require(0.0 < lr, f"Invalid learning rate: {lr}")
        _require(0.0 < eps, f"Invalid epsilon value: {eps}")
        _require(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _require(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        for kind, test, why in (("Sparse", lambda p: p.is_sparse,
                                 "SparseAdam requires dense parameter tensors"),
                                ("Complex", lambda p: p.is_complex(),
                                 "SparseAdam does not support complex parameters")):
            found = [[g, i] for g, group in enumerate(self.param_groups)
                     for i, p in enumerate(group["params"]) if test(p)]
            _require(not found, f"{kind} params at indices {found}: {why}")

    def _step_group(self, group):
        """The group's state advanced, then its parameters updated (PyTorch's order)."""
        work = []
        for p in group["params"]:
            if p.grad is None:
                continue
            if not _is_sparse(p.grad):
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
            state = self.state[p]
            if not state:
                state.update(step=0, exp_avg=Tensor._make(xp.zeros_like(p._data)),
                             exp_avg_sq=Tensor._make(xp.zeros_like(p._data)))
            state["step"] += 1
            work.append((p, state))
        beta1, beta2 = group["betas"]
        lr = float(group["lr"])
        for p, state in work:
            grad = -p.grad if group.get("maximize", False) else p.grad
            grad = grad.coalesce()  # the update is not linear: one entry per row
            values = grad._values()._data
            if values.size == 0:
                continue
            sparse_adam_update(p._data, grad._indices()._data, values, state["step"],
                               state["exp_avg"]._data, state["exp_avg_sq"]._data, lr=lr,
                               beta1=beta1, beta2=beta2, eps=group["eps"])
            p._version_counter.value += 1
