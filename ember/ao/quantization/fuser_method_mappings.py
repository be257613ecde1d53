"""Which modules fuse into what (matches `torch.ao.quantization.fuser_method_mappings`).

A fuser method takes `is_qat` and the modules to join. For inference (`is_qat=False`) a Conv or
Linear absorbs its BatchNorm (`nn.utils.fusion`) and a following ReLU is kept beside it in a
fused container (`ember.ao.nn.intrinsic`); for quantization-aware training the BatchNorm is kept
in the container too (ConvBn2d, ConvBnReLU2d, LinearBn1d).
"""

from ember import nn
from ember.ao.nn import intrinsic as nni
from ember.nn.utils import fusion

__all__ = ["fuse_conv_bn", "fuse_conv_bn_relu", "fuse_convtranspose_bn", "fuse_linear_bn",
           "get_fuser_method"]


def _check_same_mode(modules, message: str) -> None:
    """All modules train, or all evaluate (torch asserts it)."""
    if len({m.training for m in modules}) > 1:
        raise AssertionError(message)


def _check_qat_batch_norm(bn, channels: int, first: str, norm: str) -> None:
    """A BatchNorm that QAT can keep: matching channels, affine, tracking running stats."""
    if bn.num_features != channels:
        raise AssertionError(first)
    if not bn.affine:
        raise AssertionError(f"Only support fusing {norm} with affine set to True")
    if not bn.track_running_stats:
        raise AssertionError(
            f"Only support fusing {norm} with tracking_running_stats set to True")


def fuse_conv_bn(is_qat, conv, bn):
    """Conv + BatchNorm: one Conv with the BatchNorm folded in (or ConvBnNd for QAT)."""
    _check_same_mode((conv, bn), "Conv and BN both must be in the same mode (train or eval).")
    if not is_qat:
        return fusion.fuse_conv_bn_eval(conv, bn)
    _check_qat_batch_norm(bn, conv.out_channels,
                          "Output channel of Conv2d must match num_features of BatchNorm2d.",
                          "BatchNorm2d")
    fused = {nn.Conv1d: nni.ConvBn1d, nn.Conv2d: nni.ConvBn2d,
             nn.Conv3d: nni.ConvBn3d}.get(type(conv))
    if fused is None:
        raise NotImplementedError(f"Cannot fuse train modules: {(conv, bn)}")
    return fused(conv, bn)


def fuse_conv_bn_relu(is_qat, conv, bn, relu):
    """Conv + BatchNorm + ReLU: ConvReLUNd of the folded Conv (or ConvBnReLUNd for QAT)."""
    _check_same_mode((conv, bn, relu),
                     "Conv and BN both must be in the same mode (train or eval).")
    if is_qat:
        _check_qat_batch_norm(bn, conv.out_channels,
                              "Output channel of Conv2d must match num_features of BatchNorm2d",
                              "BatchNorm2d")
        fused = {nn.Conv1d: nni.ConvBnReLU1d, nn.Conv2d: nni.ConvBnReLU2d,
                 nn.Conv3d: nni.ConvBnReLU3d}.get(type(conv))
        if fused is None:
            raise NotImplementedError(f"Cannot fuse train modules: {(conv, bn, relu)}")
        return fused(conv, bn, relu)
    fused = {nn.Conv1d: nni.ConvReLU1d, nn.Conv2d: nni.ConvReLU2d,
             nn.Conv3d: nni.ConvReLU3d}.get(type(conv))
    if fused is None:
        raise NotImplementedError(f"Cannot fuse eval modules: {(conv, bn, relu)}")
    return fused(fusion.fuse_conv_bn_eval(conv, bn), relu)


def fuse_linear_bn(is_qat, linear, bn):
    """Linear + BatchNorm1d: one Linear with the BatchNorm folded in (or LinearBn1d for QAT)."""
    _check_same_mode((linear, bn), "Linear and BN both must be in the same mode (train or eval).")
    if not is_qat:
        return fusion.fuse_linear_bn_eval(linear, bn)
    _check_qat_batch_norm(bn, linear.out_features,
                          "Output features of Linear must match num_features of BatchNorm1d",
                          "BatchNorm1d")
    return nni.LinearBn1d(linear, bn)


def fuse_convtranspose_bn(is_qat, convt, bn):
    """ConvTranspose + BatchNorm: one ConvTranspose with the BatchNorm folded in."""
    _check_same_mode((convt, bn),
                     "ConvTranspose and BN both must be in the same mode (train or eval).")
    if is_qat:
        raise Exception("Fusing ConvTranspose+BatchNorm not yet supported in QAT.")  # noqa: TRY002 - torch's type
    return fusion.fuse_conv_bn_eval(convt, bn, transpose=True)


def _sequential_wrapper2(sequential):
    """A fuser method putting its two modules in `sequential`, whatever is_qat."""
    def fuser_method(is_qat, m1, m2):
        return sequential(m1, m2)
    return fuser_method


_DEFAULT_OP_LIST_TO_FUSER_METHOD = {
    (nn.Conv1d, nn.BatchNorm1d): fuse_conv_bn,
    (nn.Conv1d, nn.BatchNorm1d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv2d, nn.BatchNorm2d): fuse_conv_bn,
    (nn.Conv2d, nn.BatchNorm2d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv3d, nn.BatchNorm3d): fuse_conv_bn,
    (nn.Conv3d, nn.BatchNorm3d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv1d, nn.ReLU): _sequential_wrapper2(nni.ConvReLU1d),
    (nn.Conv2d, nn.ReLU): _sequential_wrapper2(nni.ConvReLU2d),
    (nn.Conv3d, nn.ReLU): _sequential_wrapper2(nni.ConvReLU3d),
    (nn.Linear, nn.BatchNorm1d): fuse_linear_bn,
    (nn.Linear, nn.ReLU): _sequential_wrapper2(nni.LinearReLU),
    (nn.BatchNorm2d, nn.ReLU): _sequential_wrapper2(nni.BNReLU2d),
    (nn.BatchNorm3d, nn.ReLU): _sequential_wrapper2(nni.BNReLU3d),
    (nn.ConvTranspose1d, nn.BatchNorm1d): fuse_convtranspose_bn,
    (nn.ConvTranspose2d, nn.BatchNorm2d): fuse_convtranspose_bn,
    (nn.ConvTranspose3d, nn.BatchNorm3d): fuse_convtranspose_bn,
}


def get_fuser_method(op_list, additional_fuser_method_mapping=None):
    """The fuser method for a tuple of module types (the additional mapping first)."""
    mappings = {**_DEFAULT_OP_LIST_TO_FUSER_METHOD, **(additional_fuser_method_mapping or {})}
    fuser_method = mappings.get(op_list)
    if fuser_method is None:
        raise AssertionError(f"did not find fuser method for: {op_list} ")
    return fuser_method
