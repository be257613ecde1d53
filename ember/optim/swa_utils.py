"""Weight averaging (matches `torch.optim.swa_utils`): `AveragedModel` keeps a running
average of a model's parameters, as stochastic weight averaging (SWA, an equal-weight mean of
the iterates) or an exponential moving average (EMA); `SWALR` anneals the learning rate to a
constant for the averaging phase; `update_bn` recomputes BatchNorm statistics for the averaged
weights with one pass over the data."""

import copy
import itertools
import math

from ember._warnings import warn as _warn
from ember import _dtype
from ember.autograd import grad_mode
from ember.nn.modules.batchnorm import _BatchNorm
from ember.nn.modules.module import Module
from ember.ops.creation import tensor
from ember.optim.lr_scheduler.base import LRScheduler, _format_param


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """The EMA update over lists of parameters: W ← lerp(W, W_model, 1 - decay)."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with grad_mode.no_grad():
            floating = ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex()
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                if floating:
                    p_ema.lerp_(p_model, 1 - decay)
                else:
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """The SWA update over lists of parameters: W ← lerp(W, W_model, 1/(n + 1))."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with grad_mode.no_grad():
            if averaged_param_list[0].is_floating_point() or averaged_param_list[0].is_complex():
                weight = float(1 / (num_averaged + 1))
                for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                    p_avg.lerp_(p_model, weight)
                return
            for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                p_avg.add_((p_model - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The EMA update of one parameter: decay·W + (1 - decay)·W_model."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with grad_mode.no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The SWA update of one parameter: W + (W_model - W)/(n + 1)."""

    def swa_update(averaged_param, current_param, num_averaged):
        with grad_mode.no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose parameters (and, with use_buffers, buffers) hold a running
    average of `model`'s, updated by `update_parameters` (matches
    `torch.optim.swa_utils.AveragedModel`; SWA unless avg_fn / multi_avg_fn say otherwise)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=_dtype.int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model) -> None:
        """Fold `model`'s current parameters into the average (the first call copies them)."""
        if self.use_buffers:
            own = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            own, theirs = list(self.parameters()), list(model.parameters())
        own = [p.detach() for p in own]
        theirs = [p.detach() for p in theirs][:len(own)]
        first = int(self.n_averaged) == 0
        with grad_mode.no_grad():
            if first:
                for p_avg, p_model in zip(own, theirs):
                    p_avg.copy_(p_model)
            else:
                self._average(own, theirs)
            if not self.use_buffers:  # buffers (BatchNorm statistics) follow the model
                for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_avg.detach().copy_(b_model.detach())
            self.n_averaged += 1

    def _average(self, own, theirs):
        """One averaging step: multi_avg_fn on the parameters grouped by dtype, else avg_fn (by
        default SWA's) one parameter at a time, as torch on the CPU, where its foreach
        kernels are not used (so an integer buffer gets a true division, cast back)."""
        if self.multi_avg_fn is None:
            avg_fn = self.avg_fn or get_swa_avg_fn()
            for p_avg, p_model in zip(own, theirs, strict=True):
                p_avg.copy_(avg_fn(p_avg, p_model, self.n_averaged))
            return
        groups = {}
        for p_avg, p_model in zip(own, theirs, strict=True):
            group = groups.setdefault(p_avg.dtype, ([], []))
            group[0].append(p_avg)
            group[1].append(p_model)
        for averaged, current in groups.values():
            self.multi_avg_fn(averaged, current, self.n_averaged)


def update_bn(loader, model, device=None) -> None:
    """Recompute every BatchNorm's running statistics as a cumulative mean over `loader` (one
    pass in training mode; a batch that is a list or tuple gives its first element)."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative moving average
    with grad_mode.no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to swa_lr over anneal_epochs steps, cosine or linear,
    then hold it (matches `torch.optim.swa_utils.SWALR`)."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        for value, group in zip(_format_param("swa_lr", optimizer, swa_lr),
                                optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(
                f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        """The next learning rates: the previous step's base recovered from the current lr,
        moved toward swa_lr by the annealing function (torch's chainable form)."""
        if not self._get_lr_called_within_step:
            _warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = (self._cosine_anneal if anneal_strategy == "cos"
                            else self._linear_anneal)

    def state_dict(self) -> dict:
        """Every attribute but the optimizer and the annealing function."""
        return {key: value for key, value in self.__dict__.items()
                if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)


__all__ = ["AveragedModel", "SWALR", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn", "update_bn"]
