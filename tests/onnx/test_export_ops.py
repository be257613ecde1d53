"""ember.onnx.export of ops as a model's forward writes them (arithmetic, comparisons, indexing,
reductions, filled tensors and slices that follow the input's sizes) and of attention masks that
follow a dynamic length, each run in onnxruntime at two sizes against ember's output."""

import pytest

import ember
from ember import nn
from ember.nn import functional as F
from tests.onnx._helpers import BATCH, SEQ2, Lambda, check, r


def _index_ops():
    w = r(4, 5)
    yield "arith-broadcast", lambda x: (x + 1) * 2 - x / 3 + x ** 2 - 0.5 * x.mean(0)
    yield "scalar-left", lambda x: 1 - x + 2 / (x.abs() + 1) + (-x)
    yield "sub-alpha", lambda x: ember.sub(x, x.exp(), alpha=0.5) + ember.add(x, x, alpha=2)
    yield "unary", lambda x: x.sqrt().abs() + x.exp().log() + x.sin() + x.cos() + x.rsqrt().abs()
    mask = ember.rand(3, 4) > 0.5
    yield "clamp-where", lambda x: x.clamp(-0.5, 0.3) + ember.where(mask, x, -x) + x.clamp(min=0)
    yield "clamp-tensor", lambda x: (x.clamp(min=w[0, :4] - 1, max=w[1, :4])
                                     + ember.maximum(x, w[2, :4]))
    yield "matmul", lambda x: x @ w + ember.matmul(x, w).relu()
    yield "permute-transpose", lambda x: x.permute(0, 2, 1).transpose(1, 2).contiguous()
    yield "view-reshape", lambda x: x.view(x.size(0), -1).reshape(x.shape[0], 3, 2, 2)
    yield "flatten-unflatten", lambda x: x.flatten(1).unsqueeze(1).squeeze(1) + 1
    yield "cat-stack", lambda x: ember.cat([x, x * 2], 1) + ember.stack([x, x], 2).sum(2).repeat(
        1, 2, 1)
    yield "slices", lambda x: x[:, 1:3, ::2] + x[..., 1:4:2][:, :2]
    yield "bounds-from-sizes", lambda x: (x[:, :, : x.size(2) - 1] + x[:, :, 1:]
                                          + x[:, :, x.size(2) - 2, None]
                                          + x[: x.shape[0], :, 1:] + x[x.size(0) - 1, :, 1:])
    yield "select-none", lambda x: x[:, 0] + x[:, -1, None, :].squeeze(1) + x[:, 1, 2:3]
    yield "gather-list", lambda x: x[:, [0, 2, 2]] + x[:, :, [1, 0, 3]].sum(-1, keepdim=True)
    yield "reductions", lambda x: x.sum() + x.mean((1, 2)) + x.sum(-1).amax(1) + x.max()
    yield "softmaxes", lambda x: x.softmax(-1) + F.log_softmax(x, dim=1) + F.softmax(x, 0)
    yield "chunk-split-unbind", lambda x: (x.chunk(2, -1)[0] + x.split([1, 3], -1)[1][..., :2]
                                           + sum(x.unbind(1)).unsqueeze(1)[..., 1:3])
    yield "expand-pad", lambda x: x[:, :1].expand(-1, 3, -1) + F.pad(x, (1, 0))[..., :4]
    yield "inplace", lambda x: _inplace(x)
    yield "functional-pools", lambda x: (F.max_pool2d(x.unsqueeze(1), 2).flatten(1) +
                                         F.adaptive_avg_pool2d(x.unsqueeze(1), 1).flatten(1))
    yield "statistics", lambda x: (x.var(1) + x.std(1, keepdim=True)[:, 0] + x.logsumexp(1)
                                   + F.normalize(x, dim=1).sum(1) + x.norm(dim=1)
                                   + x.norm(p=1, dim=1) + x.norm(p=3, dim=1))
    yield "max-min-dim", lambda x: x.max(1)[0] + x.min(1, keepdim=True)[0][:, 0]
    yield "cumsum", lambda x: x.cumsum(1) + x.cumsum(-1)
    yield "cast", lambda x: x.double().float() + x.to(ember.float64).sum(1, keepdim=True).float()
    # comparisons, logical ops and argmax: recorded through their faces (_untracked.py)
    yield "compare-where", lambda x: (ember.where(x > 0, x, ember.zeros_like(x))
                                      + ember.where(x <= 0.2, 1.5, x) + x.masked_fill(x < -0.5, 0)
                                      + (x >= w[0, :4]).float() + (w[1, :4] < x).double().float())
    yield "equal-logical", lambda x: (((x.round() == 0) | (x.round() != 1)) & ~(x > 1)
                                      ^ ember.logical_and(x > -1, ember.logical_not(x < 0.5))
                                      ).float() + ember.logical_or(x > 1, ember.gt(x, 0)).float()
    yield "argmax-argmin", lambda x: (x.argmax(1) + ember.argmin(x, 1, keepdim=True)[:, 0]
                                      + (x.argmax(1, True) > 1).long()[:, 0])
    yield "argmax-flat", lambda x: x[0].argmax() + ember.argmin(x[:1], keepdim=True).sum()
    yield "sort-argsort-topk", lambda x: (x.sort(2)[0] + x.sort(1, descending=True).values[:, :1]
                                          + ember.sort(x, 0)[0] + x.argsort(2)
                                          + ember.argsort(x, 1, descending=True)[:, :1]
                                          + x.topk(2, dim=2)[0].sum(-1, keepdim=True)
                                          + x.topk(1, 1, largest=False).indices
                                          + ember.topk(x, 3)[1][..., :1])
    yield "any-all", lambda x: ((x > 1).any(1).float() + (x > -1).all(1, keepdim=True)[:, 0]
                                + ember.any(x > 2) + ember.all(x[0] < 3)
                                + (x.round() != 0).any(1, keepdim=True).long().sum(1))
    yield "isnan-isinf", lambda x: (ember.where(ember.isnan(x.log()), 0.0, x)
                                    + ember.isfinite(1 / x.round()).float()
                                    + ember.isinf(1 / x.round()).float())
    # tensors filled with one value whose size follows the batch: ConstantOfShape
    yield "filled-alike", lambda x: (ember.cat([x, x.new_zeros(x.size(0), 3, 1),
                                                ember.full((x.shape[0], 3, 2), 2.0)], 2)[..., 3:]
                                     + ember.ones_like(x) + ember.zeros(x.size(0), 1, 4))
    # the rest of elementwise arithmetic
    yield "step-functions", lambda x: (x.floor() + (-x).ceil() + (x * 3).round() + (x * 3).trunc()
                                       + x.sign() + (x * 2).frac())
    yield "floor-divide-remainder", lambda x: (ember.div(x, 0.3, rounding_mode="floor") + x // 0.7
                                               + ember.div(x, x.abs() + 0.5, rounding_mode="trunc")
                                               + x % 0.7 + ember.remainder(x, -0.6)
                                               + ember.fmod(x, 0.4) + ember.fmod(x, -0.9))
    # float16 times/over scalars: float32 arithmetic, rounded once (as ember and torch compute)
    yield "half-and-scalars", lambda x: ((x.half() * 0.3) / 0.7 // 0.2).float()
    yield "exp2-shrinks", lambda x: (ember.exp2(x) + F.hardshrink(x, 0.3) + F.softshrink(x, 0.4))
    # indexing and reorders
    mask = ember.tensor([True, False, True, False])
    yield "masked-fill-constant-mask", lambda x: (x.masked_fill(mask, -1.5).softmax(-1)
                                                  + x.masked_fill(mask, ember.tensor(2.0)))
    yield "index-select-gather", lambda x: (x.index_select(2, ember.tensor([0, 2, 3]))
                                            + x.index_select(-1, ember.tensor([1, 1, 0]))
                                            + x.gather(2, x.argmax(2, keepdim=True).expand(
                                                -1, -1, 3)) + x[:, :2].gather(1, ember.tensor(
                                                    [[[1, 0, 1]]]).expand(x.size(0), 1, 3)))
    yield "flip-roll", lambda x: (x.flip(1) + x.flip((-1, 0)).flip(0) + x.roll(1, 2)
                                  + x.roll(-3, -1) + x.roll((1, 2), (1, 2)) + x[0].roll(5))
    yield "tril-triu", lambda x: x[:, :, :3].tril() + x[:, :, 1:].triu(1) + x[:, :, :3].tril(-1)
    yield "prod", lambda x: x.prod(1) + x.prod(-1)[:, :1] + x[0].prod()
    yield "einsum", lambda x: (ember.einsum("bij,bik->bjk", x, x)[:, :3]
                               + ember.einsum("bci,ij->bcj", x, w[:4, :4])
                               + ember.einsum("...i,i->...", x, w[0, :4]).unsqueeze(-1))
    yield "addmm-baddbmm-outer", lambda x: (
        ember.baddbmm(x, x, w[:4, :4].expand(x.size(0), 4, 4), beta=0.5, alpha=2.0)
        + ember.addmm(w[0, :4], x[:, 0], w[:4, :4]).unsqueeze(1)
        + x @ ember.outer(w[0, :4], w[1, :4]))
    # a parameter or constant sliced to an input's size (positional embeddings)
    table = r(1, 9, 4)
    yield "slice-to-input-size", lambda x: x + table[:, : x.size(1)] + table[0, x.size(0)]
    yield "expand-to-batch", lambda x: ember.cat([table[:, :1].expand(x.size(0), -1, -1),
                                                  x[:, 1:]], 1)  # a CLS token


def _inplace(x):
    y = x * 1
    y += x
    y.mul_(2)
    return F.relu(y, inplace=True)


OPS = dict(_index_ops())


@pytest.mark.parametrize("name", OPS)
def test_op_runs_in_onnxruntime(name):
    ember.manual_seed(0)
    check(Lambda(OPS[name]), [r(2, 3, 4)], [r(5, 3, 4)], BATCH)


class TokenClassifier(nn.Module):
    """A user's model: padding mask from the tokens, positional table sliced to the length,
    TransformerEncoder with src_key_padding_mask, masked mean, argmax."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 16, padding_idx=0)
        self.position = nn.Parameter(ember.randn(1, 50, 16) * 0.1)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(
            16, 2, 32, batch_first=True), 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens):
        pad = tokens == 0
        h = self.embed(tokens) + self.position[:, : tokens.size(1)]
        h = self.encoder(h, src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).float()
        logits = self.head((h * keep).sum(1) / keep.sum(1).clamp(min=1))
        return logits.argmax(-1), logits


def _tokens(batch, length):
    tokens = ember.randint(1, 30, (batch, length))
    tokens[:, -2:] = 0
    return tokens


class CausalLM(nn.Module):
    """examples/transformer_language_model.py's model: positions from arange(length), a causal
    mask from generate_square_subsequent_mask(length), is_causal=True."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 16)
        self.position = nn.Embedding(16, 16)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(
            16, 4, 32, dropout=0.0, batch_first=True), 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 20)

    def forward(self, tokens):
        length = tokens.shape[1]
        x = self.embed(tokens) * 4.0 + self.position(ember.arange(length))
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        return self.head(self.encoder(x, mask=mask, is_causal=True))


def test_causal_language_model_with_dynamic_length():
    ember.manual_seed(0)
    check(CausalLM(), [ember.randint(0, 20, (2, 5))], [ember.randint(0, 20, (3, 16))], SEQ2)


class WordLM(nn.Module):
    """examples/word_language_model.py's model: tied embedding/decoder, LSTM with (h0, c0)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(30, 8)
        self.rnn = nn.LSTM(8, 8, 2)
        self.decoder = nn.Linear(8, 30)
        self.decoder.weight = self.encoder.weight

    def forward(self, tokens, h0, c0):
        output, (h, c) = self.rnn(self.encoder(tokens), (h0, c0))
        decoded = self.decoder(output)
        return decoded.view(-1, decoded.size(-1)), h, c


@pytest.mark.parametrize("labels", ["named", "lists"])
def test_word_language_model_with_hidden_state_inputs(labels):
    """Inputs that share the batch size: named alike they grow alike in export's second run;
    as lists (torch gives each its own name) export falls back to growing all axes alike."""
    ember.manual_seed(0)
    dynamic = ([{0: "time", 1: "batch"}, {1: "batch"}, {1: "batch"}] if labels == "named"
               else [[0, 1], [1], [1]])

    def inputs(time, batch):
        return [ember.randint(0, 30, (time, batch)), r(2, batch, 8), r(2, batch, 8)]

    check(WordLM().eval(), inputs(6, 2), inputs(9, 3), dynamic)


ATTENTION = {
    "causal": lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True),
    "bool-mask-from-input": lambda x: F.scaled_dot_product_attention(
        x, x * 2, x, attn_mask=(x.sum(-1) > -1)[:, None, :].expand(-1, x.size(1), -1)),
    "triu-bool-mask": lambda x: F.scaled_dot_product_attention(
        x, x, x, attn_mask=ember.ones(x.size(1), x.size(1), dtype=ember.bool).tril()),
}


@pytest.mark.parametrize("name", ATTENTION)
def test_attention_masks_follow_the_length(name):
    ember.manual_seed(0)
    check(Lambda(ATTENTION[name]), [r(2, 5, 8)], [r(3, 9, 8)], SEQ2)


def test_transformer_with_padding_mask_and_argmax():
    ember.manual_seed(0)
    check(TokenClassifier(), [_tokens(2, 7)], [_tokens(4, 11)], SEQ2)


# ---- height and width as dynamic axes ------------------------------------------------------------
HW = [{0: "batch", 2: "height", 3: "width"}]


class TinyUNet(nn.Module):
    """Runs only on even sizes: export's second run grows the axes until the model runs."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.norm = nn.BatchNorm2d(8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.out = nn.Conv2d(4 + 3, 2, 1)

    def forward(self, x):
        h = F.relu(self.norm(self.down(x)))
        u = self.up(h) + F.interpolate(h, scale_factor=2.0, mode="nearest")[:, :4]
        return self.out(ember.cat([u, x], 1)).softmax(1)


SPATIAL = {
    "unet-even-sizes": lambda: TinyUNet(),
    # a square example: H and W must not be told apart by their sizes alone
    "swap-height-width": lambda: Lambda(lambda x: x.reshape(x.size(0), x.size(1), x.size(3),
                                                            x.size(2)) + x.transpose(2, 3)),
    "pools": lambda: Lambda(lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True).mean((2, 3))
                            + F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False).amax(
                                (2, 3)) + F.adaptive_max_pool2d(x, 1)[..., 0, 0]),
    "norms-over-height-width": lambda: Lambda(lambda x, g: F.layer_norm(x, x.shape[1:]) + g(x),
                                              nn.GroupNorm(1, 3)),
    "reflect-replicate-pads": lambda: Lambda(lambda x, c: (
        F.pad(x, (2, 1, 0, 3), mode="reflect")[..., :-3, 2:-1] + c(x)
        + F.pad(x, (1, 2, 3, 0), mode="replicate")[..., 3:, 1:-2]),
        nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")),
    "bilinear": lambda: Lambda(lambda x: (
        F.interpolate(x, scale_factor=2, mode="bilinear")[..., ::2, ::2]
        + F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)[..., 1::2, ::2]
        + F.interpolate(F.avg_pool2d(x, 2), size=x.shape[-2:], mode="bilinear")
        + F.interpolate(x, scale_factor=1.5, mode="bilinear").mean((2, 3), keepdim=True))),
    "conv-same-pixel-shuffle": lambda: Lambda(lambda x, c: F.pixel_shuffle(
        c(x).repeat(1, 2, 1, 1), 2)[:, :, ::2, ::2], nn.Conv2d(3, 2, 4, padding="same")),
}


@pytest.mark.parametrize("name", SPATIAL)
def test_height_and_width_as_dynamic_axes(name):
    ember.manual_seed(0)
    check(SPATIAL[name]().eval(), [r(1, 3, 8, 8)], [r(2, 3, 12, 10)], HW)


@pytest.mark.parametrize("fn, message", [
    (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"), "upsample_bicubic2d"),
    (lambda x: F.adaptive_avg_pool2d(x, 2), "adaptive_avg_pool2d"),
    (lambda x: F.pad(x, (1, 1, 1, 1), mode="circular"), "circular_pad2d"),
])
def test_sizes_written_as_numbers_along_dynamic_axes_are_refused(fn, message):
    """Written for the example's sizes, these would be wrong (or fail) at others: an error
    names the op instead of a file that breaks in the user's runtime."""
    with pytest.raises(ember.onnx.OnnxExporterError, match=f"no ONNX mapping for '{message}'"):
        check(Lambda(fn), [r(1, 3, 8, 8)], None, HW)
