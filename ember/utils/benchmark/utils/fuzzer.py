"""Random benchmark inputs: Fuzzer, FuzzedParameter, ParameterAlias, FuzzedTensor (matches
`torch.utils.benchmark.utils.fuzzer`).

Ported closely from PyTorch's torch/utils/benchmark/utils/fuzzer.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors). As in torch,
parameters are drawn from a NumPy RandomState seeded with the Fuzzer's seed, which also seeds
the global generator; tensors are drawn from it with `rand`/`randint`. ember's generator
reproduces torch's CPU streams, so a seeded Fuzzer yields torch's parameters and tensors.
"""

import functools
import itertools as it
from collections.abc import Callable
from typing import Any

from ember._backend import xp
from ember._dtype import bool as _bool
from ember._dtype import finfo, float32, iinfo
from ember.ops.creation import rand, randint
from ember.random import manual_seed

__all__ = [
    "Fuzzer",
    "FuzzedParameter", "ParameterAlias",
    "FuzzedTensor",
]


_DISTRIBUTIONS = (
    "loguniform",
    "uniform",
)


class FuzzedParameter:
    """Specification for a parameter to be generated during fuzzing."""

    def __init__(
        self,
        name: str,
        minval: int | float | None = None,
        maxval: int | float | None = None,
        distribution: str | dict[Any, float] | None = None,
        strict: bool = False,
    ) -> None:
        """
        Args:
            name:
                A string name with which to identify the parameter.
                FuzzedTensors can reference this string in their
                specifications.
            minval:
                The lower bound for the generated value. See the description
                of `distribution` for type behavior.
            maxval:
                The upper bound for the generated value. Type behavior is
                identical to `minval`.
            distribution:
                Specifies the distribution from which this parameter should
                be drawn. There are three possibilities:
                    - "loguniform"
                        Samples between `minval` and `maxval` (inclusive) such
                        that the probabilities are uniform in log space.
                    - "uniform"
                        Samples are chosen with uniform probability between
                        `minval` and `maxval` (inclusive). If either `minval`
                        or `maxval` is a float then the distribution is the
                        continuous uniform distribution; otherwise samples
                        are constrained to the integers.
                    - dict:
                        If a dict is passed, the keys are taken to be choices
                        for the variables and the values are interpreted as
                        probabilities. (And must sum to one.)
                If a dict is passed, `minval` and `maxval` must not be set.
                Otherwise, they must be set.
            strict:
                If a parameter is strict, it will not be included in the
                iterative resampling process which Fuzzer uses to find a
                valid parameter configuration.
        """
        self._name = name
        self._minval = minval
        self._maxval = maxval
        self._distribution = self._check_distribution(distribution)
        self.strict = strict

    @property
    def name(self):
        """The parameter's name."""
        return self._name

    def sample(self, state):
        """Draw one value from the RandomState `state`."""
        if self._distribution == "loguniform":
            return self._loguniform(state)

        if self._distribution == "uniform":
            return self._uniform(state)

        if isinstance(self._distribution, dict):
            return self._custom_distribution(state)

    def _check_distribution(self, distribution):
        """The distribution, after torch's checks.

        torch 2.13 inverts its normalization check (it raises when `abs(sum - 1) > 1e-5` is
        False), so every dict that sums to one is refused, and one that does not fails later
        in NumPy's `choice`: no dict distribution can be used (op_fuzzers.BinaryOpFuzzer
        raises on construction). ember checks what the message says, as torch did before
        the assert became a raise: a normalized dict is accepted and samples as torch's
        sampling code does.
        """
        if not isinstance(distribution, dict):
            if distribution not in _DISTRIBUTIONS:
                raise AssertionError(f"Unknown distribution: {distribution}")
        else:
            if any(i < 0 for i in distribution.values()):
                raise AssertionError("Probabilities cannot be negative")
            if abs(sum(distribution.values()) - 1) > 1e-5:
                raise AssertionError("Distribution is not normalized")
            if self._minval is not None:
                raise AssertionError("When passing a custom distribution, 'minval' must be None")
            if self._maxval is not None:
                raise AssertionError("When passing a custom distribution, 'maxval' must be None")

        return distribution

    def _loguniform(self, state):
        """An int uniform in log2 space between minval and maxval (clamped to them)."""
        output = int(2 ** state.uniform(
            low=xp.log2(self._minval) if self._minval is not None else None,
            high=xp.log2(self._maxval) if self._maxval is not None else None,
        ))
        if self._minval is not None and output < self._minval:
            return self._minval
        if self._maxval is not None and output > self._maxval:
            return self._maxval
        return output

    def _uniform(self, state):
        """An int in [minval, maxval] if both are ints, else a float in [minval, maxval)."""
        if isinstance(self._minval, int) and isinstance(self._maxval, int):
            return int(state.randint(low=self._minval, high=self._maxval + 1))
        return state.uniform(low=self._minval, high=self._maxval)

    def _custom_distribution(self, state):
        """A key of the distribution dict, drawn with its probability."""
        # If we directly pass the keys to `choice`, numpy will convert
        # them to numpy dtypes.
        index = state.choice(
            xp.arange(len(self._distribution)),
            p=tuple(self._distribution.values()))
        return list(self._distribution.keys())[index]


class ParameterAlias:
    """Indicates that a parameter should alias the value of another parameter.

    When used in conjunction with a custom distribution, this allows fuzzed
    tensors to represent a broader range of behaviors. For example, the
    following sometimes produces Tensors which broadcast:

    Fuzzer(
        parameters=[
            FuzzedParameter("x_len", 4, 1024, distribution="uniform"),

            # `y` will either be size one, or match the size of `x`.
            FuzzedParameter("y_len", distribution={
                0.5: 1,
                0.5: ParameterAlias("x_len")
            }),
        ],
        tensors=[
            FuzzedTensor("x", size=("x_len",)),
            FuzzedTensor("y", size=("y_len",)),
        ],
    )

    Chains of alias' are allowed, but may not contain cycles.
    """

    def __init__(self, alias_to) -> None:
        self.alias_to = alias_to

    def __repr__(self) -> str:
        return f"ParameterAlias[alias_to: {self.alias_to}]"


def dtype_size(dtype):
    """Bytes per element of dtype."""
    if dtype == _bool:
        return 1
    if dtype.is_floating_point or dtype.is_complex:
        return int(finfo(dtype).bits / 8)
    return int(iinfo(dtype).bits / 8)


def prod(values, base=1):
    """The product of sizes in Python ints (np.prod can overflow, and a negative size would
    pass the size check and then fail to allocate)."""
    return functools.reduce(lambda x, y: int(x) * int(y), values, base)


class FuzzedTensor:
    """Specification for a tensor to be generated from a Fuzzer's parameters."""

    def __init__(
        self,
        name: str,
        size: tuple[str | int, ...],
        steps: tuple[str | int, ...] | None = None,
        probability_contiguous: float = 0.5,
        min_elements: int | None = None,
        max_elements: int | None = None,
        max_allocation_bytes: int | None = None,
        dim_parameter: str | None = None,
        roll_parameter: str | None = None,
        dtype=float32,
        cuda=False,
        tensor_constructor: Callable | None = None
    ) -> None:
        """
        Args:
            name:
                A string identifier for the generated Tensor.
            size:
                A tuple of integers or strings specifying the size of the generated
                Tensor. String values will replaced with a concrete int during the
                generation process, while ints are simply passed as literals.
            steps:
                An optional tuple with the same length as `size`: a larger Tensor is
                allocated and sliced with these steps (e.g. size (4, 8), steps (1, 4):
                `t[:, ::4]` of a (4, 32) tensor), for strided memory.
            probability_contiguous:
                The chance that the generated Tensor has a contiguous memory layout
                (otherwise its dimensions are permuted, made contiguous and permuted back).
            min_elements:
                The minimum number of elements for a set of parameters to be valid.
            max_elements:
                Like `min_elements`, but setting an upper bound.
            max_allocation_bytes:
                Like `max_elements`, but for the size of the Tensor allocated before
                slicing for `steps`.
            dim_parameter:
                The length of `size` and `steps` will be truncated to this value.
            dtype:
                The dtype of the generated Tensor.
            cuda:
                Whether to place the Tensor on a GPU (ember raises, having none).
            tensor_constructor:
                Callable used instead of the default construction. It is passed the dtype
                and concrete allocation size, and all parameters as kwargs.
        """
        self._name = name
        self._size = size
        self._steps = steps
        self._probability_contiguous = probability_contiguous
        self._min_elements = min_elements
        self._max_elements = max_elements
        self._max_allocation_bytes = max_allocation_bytes
        self._dim_parameter = dim_parameter
        self._dtype = dtype
        self._cuda = cuda
        self._tensor_constructor = tensor_constructor

    @property
    def name(self):
        """The tensor's name."""
        return self._name

    @staticmethod
    def default_tensor_constructor(size, dtype, **kwargs):
        """Uniform [0, 1) floats, or integers in [1, 127)."""
        if dtype.is_floating_point or dtype.is_complex:
            return rand(size=size, dtype=dtype, device="cpu")
        else:
            return randint(1, 127, size=size, dtype=dtype, device="cpu")

    def _make_tensor(self, params, state):
        """The tensor for params (permuted and sliced as drawn from state) and its
        properties."""
        size, steps, allocation_size = self._get_size_and_steps(params)
        constructor = (
            self._tensor_constructor or
            self.default_tensor_constructor
        )

        raw_tensor = constructor(size=allocation_size, dtype=self._dtype, **params)
        if self._cuda:
            raw_tensor = raw_tensor.cuda()

        raw_tensor, order = self._maybe_discontiguous(raw_tensor, len(size), state)
        slices = [slice(0, size * step, step) for size, step in zip(size, steps, strict=True)]
        tensor = raw_tensor[tuple(slices)]

        properties = {
            "numel": int(tensor.numel()),
            "order": order,
            "steps": steps,
            "is_contiguous": tensor.is_contiguous(),
            "dtype": str(self._dtype),
        }

        return tensor, properties

    def _maybe_discontiguous(self, raw_tensor, dim, state):
        """Randomly permute the Tensor and call `.contiguous()` to force re-ordering of the
        memory, and then permute it back to the original shape; also the order used."""
        order = xp.arange(dim)
        if state.rand() > self._probability_contiguous:
            while dim > 1 and xp.all(order == xp.arange(dim)):
                order = state.permutation(raw_tensor.dim())

            raw_tensor = raw_tensor.permute(tuple(order)).contiguous()
            raw_tensor = raw_tensor.permute(tuple(xp.argsort(order)))
        return raw_tensor, order

    def _get_size_and_steps(self, params):
        """The concrete size, steps and allocation size for params."""
        dim = (
            params[self._dim_parameter]
            if self._dim_parameter is not None
            else len(self._size)
        )

        def resolve(values, dim):
            """Resolve values into concrete integers."""
            values = tuple(params.get(i, i) for i in values)
            if len(values) > dim:
                values = values[:dim]
            if len(values) < dim:
                values = values + tuple(1 for _ in range(dim - len(values)))
            return values

        size = resolve(self._size, dim)
        steps = resolve(self._steps or (), dim)
        allocation_size = tuple(size_i * step_i
                                for size_i, step_i in zip(size, steps, strict=True))
        return size, steps, allocation_size

    def satisfies_constraints(self, params) -> bool:
        """Whether params give a tensor within the element and allocation limits."""
        size, _, allocation_size = self._get_size_and_steps(params)
        # Product is computed in Python to avoid integer overflow.
        num_elements = prod(size)
        if num_elements < 0:
            raise AssertionError("Computed number of elements is negative")

        allocation_bytes = prod(allocation_size, base=dtype_size(self._dtype))

        def nullable_greater(left, right):
            """left > right, False when either is None."""
            if left is None or right is None:
                return False
            return left > right

        return not any((
            nullable_greater(num_elements, self._max_elements),
            nullable_greater(self._min_elements, num_elements),
            nullable_greater(allocation_bytes, self._max_allocation_bytes),
        ))


class Fuzzer:
    """Generates parameters and the tensors they describe, reproducibly from a seed."""

    def __init__(
        self,
        parameters: list[FuzzedParameter | list[FuzzedParameter]],
        tensors: list[FuzzedTensor | list[FuzzedTensor]],
        constraints: list[Callable] | None = None,
        seed: int | None = None
    ) -> None:
        """
        Args:
            parameters:
                List of FuzzedParameters which provide specifications
                for generated parameters. Iterable elements will be
                unpacked, though arbitrary nested structures will not.
            tensors:
                List of FuzzedTensors which define the Tensors which
                will be created each step based on the parameters for
                that step. Iterable elements will be unpacked, though
                arbitrary nested structures will not.
            constraints:
                List of callables. They will be called with params
                as kwargs, and if any of them return False the current
                set of parameters will be rejected.
            seed:
                Seed for the RandomState used by the Fuzzer. This will
                also be used to set the global random seed so that random
                ops will create reproducible Tensors.
        """
        if seed is None:
            seed = int(xp.random.RandomState().randint(0, 2 ** 32 - 1, dtype=xp.int64))
        self._seed = seed
        self._parameters = Fuzzer._unpack(parameters, FuzzedParameter)
        self._tensors = Fuzzer._unpack(tensors, FuzzedTensor)
        self._constraints = constraints or ()

        p_names = {p.name for p in self._parameters}
        t_names = {t.name for t in self._tensors}
        name_overlap = p_names.intersection(t_names)
        if name_overlap:
            raise ValueError(f"Duplicate names in parameters and tensors: {name_overlap}")

        self._rejections = 0
        self._total_generated = 0

    @staticmethod
    def _unpack(values, cls):
        """Flatten one level of lists among the specs."""
        return tuple(it.chain.from_iterable(
            [[i] if isinstance(i, cls) else i for i in values]
        ))

    def take(self, n):
        """Yield n (tensors, tensor_properties, params) triples, dicts keyed by name."""
        state = xp.random.RandomState(self._seed)
        manual_seed(state.randint(low=0, high=2 ** 63, dtype=xp.int64))
        for _ in range(n):
            params = self._generate(state)
            tensors = {}
            tensor_properties = {}
            for t in self._tensors:
                tensor, properties = t._make_tensor(params, state)
                tensors[t.name] = tensor
                tensor_properties[t.name] = properties
            yield tensors, tensor_properties, params

    @property
    def rejection_rate(self):
        """The fraction of generated parameter sets rejected so far."""
        if not self._total_generated:
            return 0.
        return self._rejections / self._total_generated

    def _generate(self, state):
        """A parameter set satisfying the constraints (up to 1000 tries)."""
        strict_params: dict[str, float | int | ParameterAlias] = {}
        for _ in range(1000):
            candidate_params = self._sample(state, strict_params)
            candidate_params = self._resolve_aliases(candidate_params)

            self._total_generated += 1
            if not all(f(candidate_params) for f in self._constraints):
                self._rejections += 1
                continue

            if not all(t.satisfies_constraints(candidate_params) for t in self._tensors):
                self._rejections += 1
                continue

            return candidate_params
        raise ValueError("Failed to generate a set of valid parameters.")

    def _sample(self, state, strict_params):
        """One candidate parameter set; strict parameters keep their first draw."""
        candidate_params: dict[str, float | int | ParameterAlias] = {}
        for p in self._parameters:
            if p.strict:
                if p.name in strict_params:
                    candidate_params[p.name] = strict_params[p.name]
                else:
                    candidate_params[p.name] = p.sample(state)
                    strict_params[p.name] = candidate_params[p.name]
            else:
                candidate_params[p.name] = p.sample(state)
        return candidate_params

    @staticmethod
    def _resolve_aliases(params):
        """Replace each ParameterAlias by the value it names (chains allowed, cycles not)."""
        params = dict(params)
        alias_count = sum(isinstance(v, ParameterAlias) for v in params.values())

        keys = list(params.keys())
        while alias_count:
            for k in keys:
                v = params[k]
                if isinstance(v, ParameterAlias):
                    params[k] = params[v.alias_to]
            alias_count_new = sum(isinstance(v, ParameterAlias) for v in params.values())
            if alias_count == alias_count_new:
                raise ValueError(f"ParameterAlias cycle detected\n{params}")

            alias_count = alias_count_new

        return params
