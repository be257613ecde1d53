"""ember.vision.ops against plain-torch references transcribed from torchvision's algorithms
(its CPU kernels for roi_align / roi_pool / nms, its Python for the box functions and losses)."""

import math

import numpy as np
import pytest
import torch

import ember
from ember.vision import ops
from tests.differential import assert_same, gradcheck64, to_ember


# ---- references (torch) ---------------------------------------------------------------------
def _ref_bilinear(img, y, x, height, width):
    """torchvision's bilinear_interpolate of one (C, H, W) image at a float sample."""
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return img[:, 0, 0] * 0
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    return (hy * hx * img[:, y_low, x_low] + hy * lx * img[:, y_low, x_high]
            + ly * hx * img[:, y_high, x_low] + ly * lx * img[:, y_high, x_high])


def _ref_roi_align(inp, rois, out_h, out_w, scale, sampling_ratio, aligned):
    """The CPU kernel's loops, in torch (differentiable w.r.t. inp)."""
    height, width = inp.shape[2:]
    outs = []
    for roi in rois.tolist():
        img = inp[int(roi[0])]
        off = 0.5 if aligned else 0.0
        sw, sh, ew, eh = (v * scale - off for v in roi[1:])
        rw, rh = ew - sw, eh - sh
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / out_h, rw / out_w
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(rh / out_h)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(rw / out_w)
        count = max(gh * gw, 1)
        bins = []
        for ph in range(out_h):
            for pw in range(out_w):
                acc = img[:, 0, 0] * 0
                for iy in range(gh):
                    y = sh + ph * bh + (iy + 0.5) * bh / gh
                    for ix in range(gw):
                        x = sw + pw * bw + (ix + 0.5) * bw / gw
                        acc = acc + _ref_bilinear(img, y, x, height, width)
                bins.append(acc / count)
        outs.append(torch.stack(bins, 1).reshape(-1, out_h, out_w))
    return torch.stack(outs)


def _ref_roi_pool(inp, rois, out_h, out_w, scale):
    """The CPU kernel of roi_pool, in torch."""
    height, width = inp.shape[2:]
    outs = []
    for roi in rois.tolist():
        img = inp[int(roi[0])]
        x1, y1, x2, y2 = (int(math.floor(abs(v * scale) + 0.5) * np.sign(v)) for v in roi[1:])
        rw, rh = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
        bh, bw = rh / out_h, rw / out_w
        bins = []
        for ph in range(out_h):
            for pw in range(out_w):
                hs = min(max(math.floor(ph * bh) + y1, 0), height)
                he = min(max(math.ceil((ph + 1) * bh) + y1, 0), height)
                ws = min(max(math.floor(pw * bw) + x1, 0), width)
                we = min(max(math.ceil((pw + 1) * bw) + x1, 0), width)
                if he <= hs or we <= ws:
                    bins.append(img[:, 0, 0] * 0)
                else:
                    bins.append(img[:, hs:he, ws:we].amax((1, 2)))
        outs.append(torch.stack(bins, 1).reshape(-1, out_h, out_w))
    return torch.stack(outs)


def _ref_nms(boxes, scores, thr):
    """The CPU kernel of nms: stable descending order, greedy suppression."""
    order = torch.sort(scores, stable=True, descending=True)[1].tolist()
    b = boxes.tolist()
    keep, suppressed = [], set()
    for i_pos, i in enumerate(order):
        if i in suppressed:
            continue
        keep.append(i)
        for j in order[i_pos + 1:]:
            w = max(min(b[i][2], b[j][2]) - max(b[i][0], b[j][0]), 0)
            h = max(min(b[i][3], b[j][3]) - max(b[i][1], b[j][1]), 0)
            inter = w * h
            area_i = (b[i][2] - b[i][0]) * (b[i][3] - b[i][1])
            area_j = (b[j][2] - b[j][0]) * (b[j][3] - b[j][1])
            if inter / (area_i + area_j - inter) > thr:
                suppressed.add(j)
    return torch.tensor(keep, dtype=torch.int64)


def _boxes(rng, n, size=20.0):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(1, size / 2, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


def _rois(rng, k, batch, size):
    boxes = _boxes(rng, k, size)
    boxes[0] = [-3, -2, size + 4, size + 3]  # beyond the image on every side
    boxes[1] = [2.2, 3.1, 2.4, 3.3]  # smaller than a pixel
    return np.concatenate([rng.integers(0, batch, (k, 1)), boxes], 1).astype(np.float32)


# ---- roi_align / roi_pool ---------------------------------------------------------------------
@pytest.mark.parametrize("sampling_ratio,aligned,scale", [(2, False, 1.0), (-1, False, 0.5),
                                                          (-1, True, 1.0), (3, True, 0.25)])
def test_roi_align_values_and_gradients(sampling_ratio, aligned, scale):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 11)).astype(np.float32)
    rois = _rois(rng, 6, 2, 12 / scale)
    tx = torch.tensor(x, requires_grad=True)
    expected = _ref_roi_align(tx, torch.tensor(rois), 3, 4, scale, sampling_ratio, aligned)
    ex = ember.tensor(x, requires_grad=True)
    got = ops.roi_align(ex, ember.tensor(rois), (3, 4), scale, sampling_ratio, aligned)
    assert_same(got, expected.detach(), rtol=1e-4, atol=1e-5)
    gy = rng.standard_normal(expected.shape).astype(np.float32)
    expected.backward(torch.tensor(gy))
    got.backward(ember.tensor(gy))
    assert_same(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)


def _ref_ps_roi_align(inp, rois, out_h, out_w, scale, sampling_ratio):
    """The CPU kernel of ps_roi_align, in torch: bin (ph, pw) of output channel c reads input
    channel (c * out_h + ph) * out_w + pw; boxes shift by half a pixel, no 1x1 clamp."""
    height, width = inp.shape[2:]
    c_out = inp.shape[1] // (out_h * out_w)
    outs = []
    for roi in rois.tolist():
        img = inp[int(roi[0])]
        sw, sh, ew, eh = (v * scale - 0.5 for v in roi[1:])
        rw, rh = ew - sw, eh - sh
        bh, bw = rh / out_h, rw / out_w
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(rh / out_h)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(rw / out_w)
        bins = []
        for c in range(c_out):
            for ph in range(out_h):
                for pw in range(out_w):
                    channel = img[(c * out_h + ph) * out_w + pw][None]
                    acc = channel[:, 0, 0] * 0
                    for iy in range(gh):
                        y = ph * bh + sh + (iy + 0.5) * bh / gh
                        for ix in range(gw):
                            x = pw * bw + sw + (ix + 0.5) * bw / gw
                            acc = acc + _ref_bilinear(channel, y, x, height, width)
                    bins.append(acc[0] / (gh * gw))
        outs.append(torch.stack(bins).reshape(c_out, out_h, out_w))
    return torch.stack(outs)


@pytest.mark.parametrize("sampling_ratio,scale", [(2, 1.0), (-1, 0.5)])
def test_ps_roi_align_values_and_gradients(sampling_ratio, scale):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 12, 7, 9)).astype(np.float32)
    rois = _rois(rng, 5, 2, 9 / scale)
    rois[1, 1:] = [2.2, 3.1, 4.4, 6.3]  # adaptive sampling of a tiny box would divide by 0
    tx = torch.tensor(x, requires_grad=True)
    expected = _ref_ps_roi_align(tx, torch.tensor(rois), 2, 3, scale, sampling_ratio)
    ex = ember.tensor(x, requires_grad=True)
    got = ops.ps_roi_align(ex, ember.tensor(rois), (2, 3), scale, sampling_ratio)
    assert_same(got, expected.detach(), rtol=1e-4, atol=1e-5)
    gy = rng.standard_normal(expected.shape).astype(np.float32)
    expected.backward(torch.tensor(gy))
    got.backward(ember.tensor(gy))
    assert_same(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="multiple of pooling height \\* pooling width"):
        ops.ps_roi_align(ex, ember.tensor(rois), (3, 3))
    assert repr(ops.PSRoIAlign(2, 0.5, 2)) == \
        "PSRoIAlign(output_size=2, spatial_scale=0.5, sampling_ratio=2)"


def test_roi_ops_gradcheck_float64():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 4, 6, 7))
    rois = ember.tensor(_rois(rng, 4, 2, 8).astype(np.float64))
    assert gradcheck64(lambda t: ops.roi_align(t, rois, 2, 1.0, -1, True), x)
    assert gradcheck64(lambda t: ops.ps_roi_align(t, rois, (1, 2), 0.5, 2), x)
    assert gradcheck64(lambda t: ops.roi_pool(t, rois, 2, 0.5), x)


def test_roi_align_list_boxes_module_and_checks():
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((2, 2, 6, 6)).astype(np.float32))
    boxes = [ember.tensor(_boxes(rng, 2, 6)), ember.tensor(_boxes(rng, 3, 6))]
    rois = ops._utils.convert_boxes_to_roi_format(boxes)
    assert rois[:, 0].tolist() == [0, 0, 1, 1, 1]
    layer = ops.RoIAlign(2, spatial_scale=1.0, sampling_ratio=2)
    assert repr(layer) == "RoIAlign(output_size=2, spatial_scale=1.0, sampling_ratio=2, " \
                          "aligned=False)"
    assert ember.equal(layer(x, boxes), ops.roi_align(x, rois, 2, 1.0, 2))
    with pytest.raises(AssertionError, match=r"Tensor\[K, 5\]"):
        ops.roi_align(x, rois[:, 1:], 2)
    with pytest.raises(RuntimeError, match="same type"):
        ops.roi_align(x, rois.double(), 2)


def test_roi_pool_values_and_gradients():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 10, 8)).astype(np.float32)
    rois = _rois(rng, 7, 2, 16)
    tx = torch.tensor(x, requires_grad=True)
    expected = _ref_roi_pool(tx, torch.tensor(rois), 3, 2, 0.5)
    ex = ember.tensor(x, requires_grad=True)
    got = ops.roi_pool(ex, ember.tensor(rois), (3, 2), 0.5)
    assert_same(got, expected.detach(), exact=True)
    gy = rng.standard_normal(expected.shape).astype(np.float32)
    expected.backward(torch.tensor(gy))
    got.backward(ember.tensor(gy))
    assert_same(ex.grad, tx.grad, rtol=1e-5, atol=1e-6)
    assert repr(ops.RoIPool((3, 2), 0.5)) == "RoIPool(output_size=(3, 2), spatial_scale=0.5)"


# ---- boxes ------------------------------------------------------------------------------------
def _ref_box_fns(lib):
    """torchvision's box functions written against lib (torch here; ember must agree)."""
    def area(b):
        return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])

    def inter_union(b1, b2):
        lt = lib.max(b1[:, None, :2], b2[:, :2])
        rb = lib.min(b1[:, None, 2:], b2[:, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[:, :, 0] * wh[:, :, 1]
        return inter, area(b1)[:, None] + area(b2) - inter

    def iou(b1, b2):
        inter, union = inter_union(b1, b2)
        return inter / union

    def enclosing(b1, b2):
        corner = lib.max(b1[:, None, 2:], b2[:, 2:]) - lib.min(b1[:, None, :2], b2[:, :2])
        return corner.clamp(min=0)

    def giou(b1, b2):
        inter, union = inter_union(b1, b2)
        whi = enclosing(b1, b2)
        areai = whi[:, :, 0] * whi[:, :, 1]
        return inter / union - (areai - union) / areai

    def diou(b1, b2, eps=1e-7):
        whi = enclosing(b1, b2)
        diag = whi[:, :, 0] ** 2 + whi[:, :, 1] ** 2 + eps
        c1, c2 = (b1[:, :2] + b1[:, 2:]) / 2, (b2[:, :2] + b2[:, 2:]) / 2
        dist = ((c1[:, None] - c2[None]) ** 2).sum(-1)
        return iou(b1, b2) - dist / diag

    def ciou(b1, b2, eps=1e-7):
        w1, h1 = b1[:, None, 2] - b1[:, None, 0], b1[:, None, 3] - b1[:, None, 1]
        w2, h2 = b2[:, 2] - b2[:, 0], b2[:, 3] - b2[:, 1]
        v = (4 / math.pi ** 2) * (lib.atan(w1 / h1) - lib.atan(w2 / h2)) ** 2
        with lib.no_grad():
            alpha = v / (1 - iou(b1, b2) + v + eps)
        return diou(b1, b2) - alpha * v

    return {"box_iou": iou, "generalized_box_iou": giou, "distance_box_iou": diou,
            "complete_box_iou": ciou}


@pytest.mark.parametrize("name", ["box_iou", "generalized_box_iou", "distance_box_iou",
                                  "complete_box_iou"])
def test_pairwise_ious_and_gradients(name):
    rng = np.random.default_rng(3)
    b1, b2 = _boxes(rng, 5), _boxes(rng, 4)
    t1, t2 = torch.tensor(b1, requires_grad=True), torch.tensor(b2, requires_grad=True)
    expected = _ref_box_fns(torch)[name](t1, t2)
    e1, e2 = to_ember(t1), to_ember(t2)
    got = getattr(ops, name)(e1, e2)
    assert_same(got, expected.detach(), rtol=1e-5, atol=1e-6)
    expected.sum().backward()
    got.sum().backward()
    assert_same(e1.grad, t1.grad, rtol=1e-4, atol=1e-5)
    assert_same(e2.grad, t2.grad, rtol=1e-4, atol=1e-5)


def test_box_area_convert_clip_and_small_boxes():
    rng = np.random.default_rng(4)
    b = _boxes(rng, 6)
    e = ember.tensor(b)
    assert_same(ops.box_area(e), torch.tensor((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))
    for fmt in ("xywh", "cxcywh"):
        there = ops.box_convert(e, "xyxy", fmt)
        assert_same(ops.box_convert(there, fmt, "xyxy"), torch.tensor(b), rtol=1e-5, atol=1e-5)
    x1, y1, x2, y2 = b.T
    assert_same(ops.box_convert(e, "xyxy", "cxcywh"),
                torch.tensor(np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)))
    assert_same(ops.box_convert(ops.box_convert(e, "xyxy", "xywh"), "xywh", "cxcywh"),
                torch.tensor(np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)),
                rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions"):
        ops.box_convert(e, "xyxy", "yxyx")
    clipped = ops.clip_boxes_to_image(e, (10, 15))
    expected = np.stack([x1.clip(0, 15), y1.clip(0, 10), x2.clip(0, 15), y2.clip(0, 10)], 1)
    assert_same(clipped, torch.tensor(expected), exact=True)
    keep = ops.remove_small_boxes(e, 5.0)
    assert keep.tolist() == np.nonzero(((x2 - x1) >= 5) & ((y2 - y1) >= 5))[0].tolist()
    assert keep.dtype == ember.int64


def test_masks_to_boxes():
    masks = np.zeros((2, 6, 7), dtype=bool)
    masks[0, 1:4, 2:6] = True
    masks[1, 5, 0] = True
    got = ops.masks_to_boxes(ember.tensor(masks))
    assert got.tolist() == [[2.0, 1.0, 5.0, 3.0], [0.0, 5.0, 0.0, 5.0]]
    assert got.dtype == ember.float32


@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.9])
def test_nms_and_batched_nms(thr):
    rng = np.random.default_rng(5)
    b = _boxes(rng, 40, 30)
    s = rng.random(40).astype(np.float32)
    s[3] = s[7]  # a tie: the stable order keeps the lower index first
    expected = _ref_nms(torch.tensor(b), torch.tensor(s), thr)
    got = ops.nms(ember.tensor(b), ember.tensor(s), thr)
    assert_same(got, expected, exact=True)
    idxs = rng.integers(0, 3, 40)
    keep = []
    for c in range(3):  # per-class nms, merged by score
        sel = np.nonzero(idxs == c)[0]
        keep += sel[_ref_nms(torch.tensor(b[sel]), torch.tensor(s[sel]), thr).numpy()].tolist()
    keep = sorted(keep, key=lambda i: (-s[i], i))  # one stable sort of all scores
    assert ops.batched_nms(ember.tensor(b), ember.tensor(s), ember.tensor(idxs), thr).tolist() \
        == keep


def test_nms_checks_and_empty():
    assert ops.nms(ember.zeros(0, 4), ember.zeros(0), 0.5).tolist() == []
    assert ops.batched_nms(ember.zeros(0, 4), ember.zeros(0), ember.zeros(0), 0.5).dtype \
        == ember.int64
    with pytest.raises(RuntimeError, match="same number of elements in dimension 0, got 2 and 3"):
        ops.nms(ember.zeros(2, 4), ember.zeros(3), 0.5)
    with pytest.raises(RuntimeError, match="boxes should have 4 elements in dimension 1"):
        ops.nms(ember.zeros(2, 5), ember.zeros(2), 0.5)


# ---- losses -----------------------------------------------------------------------------------
def _ref_box_loss(lib, name, b1, b2, eps=1e-7):
    """torchvision's elementwise box losses (before reduction) against lib."""
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    iw = (lib.min(x2, x2g) - lib.max(x1, x1g)).clamp(min=0)
    ih = (lib.min(y2, y2g) - lib.max(y1, y1g)).clamp(min=0)
    inter = iw * ih
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    xc1, yc1 = lib.min(x1, x1g), lib.min(y1, y1g)
    xc2, yc2 = lib.max(x2, x2g), lib.max(y2, y2g)
    if name == "generalized_box_iou_loss":
        area_c = (xc2 - xc1) * (yc2 - yc1)
        return 1 - (iou - (area_c - union) / (area_c + eps))
    diag = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    dist = ((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2 + ((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2
    loss = 1 - iou + dist / diag
    if name == "complete_box_iou_loss":
        v = (4 / math.pi ** 2) * (lib.atan((x2g - x1g) / (y2g - y1g))
                                  - lib.atan((x2 - x1) / (y2 - y1))) ** 2
        with lib.no_grad():
            alpha = v / (1 - iou + v + eps)
        loss = loss + alpha * v
    return loss


@pytest.mark.parametrize("name", ["generalized_box_iou_loss", "distance_box_iou_loss",
                                  "complete_box_iou_loss"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_box_losses(name, reduction):
    rng = np.random.default_rng(6)
    b1, b2 = _boxes(rng, 7), _boxes(rng, 7)
    b2[0] = b1[0] + 25  # disjoint
    t1, t2 = torch.tensor(b1, requires_grad=True), torch.tensor(b2, requires_grad=True)
    expected = _ref_box_loss(torch, name, t1, t2)
    expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}[reduction]
    e1, e2 = to_ember(t1), to_ember(t2)
    got = getattr(ops, name)(e1, e2, reduction=reduction)
    assert_same(got, expected.detach(), rtol=1e-5, atol=1e-6)
    expected.sum().backward()
    got.sum().backward()
    assert_same(e1.grad, t1.grad, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'"):
        getattr(ops, name)(e1, e2, reduction="avg")
    empty = getattr(ops, name)(ember.zeros(0, 4, requires_grad=True), ember.zeros(0, 4),
                               reduction="mean")
    assert empty.item() == 0.0 and empty.requires_grad == (reduction == reduction)


@pytest.mark.parametrize("alpha,gamma,reduction", [(0.25, 2, "none"), (-1, 1.5, "mean"),
                                                   (0.5, 0, "sum")])
def test_sigmoid_focal_loss(alpha, gamma, reduction):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    y = (rng.random((4, 5)) > 0.5).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    p = torch.sigmoid(tx)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(y),
                                                              reduction="none")
    p_t = p * torch.tensor(y) + (1 - p) * (1 - torch.tensor(y))
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * torch.tensor(y) + (1 - alpha) * (1 - torch.tensor(y))) * loss
    expected = {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    ex = ember.tensor(x, requires_grad=True)
    got = ops.sigmoid_focal_loss(ex, ember.tensor(y), alpha, gamma, reduction)
    assert_same(got, expected.detach())
    expected.sum().backward()
    got.sum().backward()
    assert_same(ex.grad, tx.grad)


# ---- layers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_matches_torchvision_draws(mode):
    x = np.random.default_rng(8).standard_normal((6, 3, 2)).astype(np.float32)
    torch.manual_seed(0)
    size = [6, 1, 1] if mode == "row" else [1, 1, 1]
    noise = torch.empty(size).bernoulli_(0.6).div_(0.6)
    ember.manual_seed(0)
    got = ops.stochastic_depth(ember.tensor(x), 0.4, mode)
    assert_same(got, torch.tensor(x) * noise, exact=True)
    layer = ops.StochasticDepth(0.4, mode).eval()
    assert layer(ember.tensor(x)).tolist() == ember.tensor(x).tolist()
    assert repr(layer) == f"StochasticDepth(p=0.4, mode={mode})"
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1, but got 2"):
        ops.stochastic_depth(ember.tensor(x), 2, mode)
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row', but got col"):
        ops.stochastic_depth(ember.tensor(x), 0.1, "col")


def test_frozen_batchnorm_loads_batchnorm_state():
    bn = ember.nn.BatchNorm2d(3)
    bn.running_mean.fill_(0.5)
    bn.running_var.fill_(2.0)
    frozen = ops.FrozenBatchNorm2d(3)
    frozen.load_state_dict(bn.state_dict())
    x = ember.randn(2, 3, 4, 4)
    assert_same(frozen(x), torch.tensor(bn.eval()(x).detach().numpy()), rtol=1e-5, atol=1e-6)
    assert repr(frozen) == "FrozenBatchNorm2d(3, eps=1e-05)"
    assert sorted(frozen.state_dict()) == ["bias", "running_mean", "running_var", "weight"]
    assert list(frozen.parameters()) == []


def test_conv_norm_activation_mlp_se_permute():
    block = ops.Conv2dNormActivation(3, 8, kernel_size=5, stride=2, dilation=2)
    conv = block[0]
    assert (conv.padding, conv.bias, len(block)) == ((4, 4), None, 3)
    block3 = ops.Conv3dNormActivation(2, 4, kernel_size=(1, 3, 3), norm_layer=None)
    assert block3[0].padding == (0, 1, 1) and block3[0].bias is not None
    assert isinstance(block3[1], ember.nn.ReLU) and len(block3) == 2
    assert block3(ember.randn(1, 2, 3, 5, 5)).shape == (1, 4, 3, 5, 5)
    mlp = ops.MLP(6, [10, 4], norm_layer=ember.nn.LayerNorm, dropout=0.1)
    assert [type(m).__name__ for m in mlp] == ["Linear", "LayerNorm", "ReLU", "Dropout",
                                               "Linear", "Dropout"]
    assert sorted(mlp.state_dict()) == ["0.bias", "0.weight", "1.bias", "1.weight", "4.bias",
                                        "4.weight"]
    se = ops.SqueezeExcitation(8, 2)
    assert sorted(se.state_dict()) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    x = ember.randn(2, 8, 3, 3)
    gate = ember.sigmoid(se.fc2(ember.relu(se.fc1(x.mean((2, 3), keepdim=True)))))
    assert ember.allclose(se(x), x * gate, atol=1e-6)
    assert ops.Permute([0, 2, 3, 1])(x).shape == (2, 3, 3, 8)


@pytest.mark.parametrize("dims,block_size", [(2, 3), (2, 4), (3, 2)])
def test_drop_block_matches_torchvision_draws(dims, block_size):
    shape = (2, 3, 9, 8) if dims == 2 else (1, 2, 5, 6, 4)
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    torch.manual_seed(3)  # torchvision's drop_block, transcribed
    sizes = shape[2:]
    b = min(block_size, *reversed(sizes))
    valid = [s - b + 1 for s in sizes]
    gamma = 0.3 * math.prod(sizes) / (b ** dims * math.prod(valid))
    noise = torch.empty(shape[:2] + tuple(valid)).bernoulli_(gamma)
    noise = torch.nn.functional.pad(noise, [b // 2] * (2 * dims), value=0)
    pool = torch.nn.functional.max_pool2d if dims == 2 else torch.nn.functional.max_pool3d
    noise = 1 - pool(noise, stride=(1,) * dims, kernel_size=(b,) * dims, padding=b // 2)
    fn = ops.drop_block2d if dims == 2 else ops.drop_block3d
    ember.manual_seed(3)
    if block_size % 2 == 0:  # torchvision's even blocks overhang by one: the product fails
        with pytest.raises(RuntimeError):
            torch.tensor(x) * noise
        with pytest.raises(RuntimeError, match="must match the size"):
            fn(ember.tensor(x), 0.3, block_size)
        return
    expected = torch.tensor(x) * noise * (noise.numel() / (1e-6 + noise.sum()))
    assert_same(fn(ember.tensor(x), 0.3, block_size), expected, rtol=1e-6, atol=1e-6)
    layer = (ops.DropBlock2d if dims == 2 else ops.DropBlock3d)(0.3, block_size).eval()
    assert ember.equal(layer(ember.tensor(x)), ember.tensor(x))
    assert repr(layer).endswith(f"(p=0.3, block_size={block_size}, inplace=False)")
    with pytest.raises(ValueError, match="input should be"):
        fn(ember.zeros((1,) * (dims + 1)), 0.3, block_size)


def test_feature_pyramid_network_against_torch():
    from collections import OrderedDict
    from ember.vision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

    torch.manual_seed(0)
    inner = torch.nn.ModuleList(torch.nn.Sequential(torch.nn.Conv2d(c, 6, 1)) for c in (4, 8))
    layer = torch.nn.ModuleList(torch.nn.Sequential(torch.nn.Conv2d(6, 6, 3, padding=1))
                                for _ in range(2))
    p6p7 = torch.nn.Module()
    p6p7.p6, p6p7.p7 = torch.nn.Conv2d(8, 6, 3, 2, 1), torch.nn.Conv2d(6, 6, 3, 2, 1)
    t_state = {f"inner_blocks.{k}": v for k, v in inner.state_dict().items()}
    t_state.update({f"layer_blocks.{k}": v for k, v in layer.state_dict().items()})
    t_state.update({f"extra_blocks.{k}": v for k, v in p6p7.state_dict().items()})
    fpn = ops.FeaturePyramidNetwork([4, 8], 6, extra_blocks=LastLevelP6P7(8, 6))
    assert sorted(fpn.state_dict()) == sorted(t_state)
    fpn.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_state.items()})
    rng = np.random.default_rng(12)
    x = [rng.standard_normal((1, 4, 8, 8)).astype(np.float32),
         rng.standard_normal((1, 8, 3, 4)).astype(np.float32)]
    with torch.no_grad():  # torchvision's forward, transcribed
        c = [torch.tensor(a) for a in x]
        last = inner[1](c[1])
        p = [layer[1](last)]
        last = inner[0](c[0]) + torch.nn.functional.interpolate(last, size=(8, 8),
                                                                 mode="nearest")
        p.insert(0, layer[0](last))
        p6 = p6p7.p6(c[1])
        p += [p6, p6p7.p7(torch.relu(p6))]
    out = fpn(OrderedDict(a=ember.tensor(x[0]), b=ember.tensor(x[1])))
    assert list(out) == ["a", "b", "p6", "p7"]
    for got, want in zip(out.values(), p):
        assert_same(got, want, rtol=1e-5, atol=1e-5)
    pooled = ops.FeaturePyramidNetwork([4, 8], 6, extra_blocks=LastLevelMaxPool())
    out = pooled(OrderedDict(a=ember.tensor(x[0]), b=ember.tensor(x[1])))
    assert list(out) == ["a", "b", "pool"] and tuple(out["pool"].shape) == (1, 6, 2, 2)
    legacy = {k.replace(".0.", "."): v for k, v in fpn.state_dict().items()
              if not k.startswith("extra")}
    assert "inner_blocks.0.weight" in legacy
    plain = ops.FeaturePyramidNetwork([4, 8], 6)
    assert repr(plain.load_state_dict(legacy)) == "<All keys matched successfully>"
