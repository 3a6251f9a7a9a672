"""The operators of a FLOPs-per-sample workload (``perf/data/workloads.toml``, field ``ops``), counted from its layer
shapes: per sample, the FLOPs each operator class computes and the activation bytes it moves to and from memory in
the forward and the backward pass, so that ``perf.samples`` can time each class on the chip's roofline (the larger of
its compute time and its memory time) instead of timing all FLOPs at the GEMM rate.

Bytes are 16-bit activations (2 bytes an element) read and written once per pass as the fusion below states; the
weights are read once per micro-batch (``weight_bytes``). The pass counts are those of the MLPerf Training v1.0 NVIDIA
implementations (mlcommons/training_results_v1.0, NVIDIA/benchmarks):

- ResNet-50 (MXNet, symbols/resnet-v1b-fl.py): NHWC convolutions (cuDNN), each followed by one BatchNorm kernel with
  the ReLU fused (``act_type='relu'``) or, at the end of a block, one ``BatchNormAddRelu`` kernel (``fuse_bn_add_relu``).
  A BatchNorm+ReLU reads its input and writes its output (2 passes) forward and reads the gradient and the input and
  writes the input gradient (3) backward; BatchNorm+add+ReLU moves one more tensor each way (3 and 4). This assumes
  the statistics and the normalisation share one read: the NHWC kernels (NVIDIA/apex contrib/csrc/groupbn, the same
  code as MXNet's) hold 15 pixels per thread forward and 8 backward on chip, and read a larger tensor again, which at
  MLPerf's per-GPU batches is most of the 56x56 and 28x28 maps; so the count is a lower bound (docs/training.md).
- BERT-large (PyTorch, ``--unpad --unpad_fmha``): the attention's softmax and dropout inside the fused multi-head
  attention kernel (query, key, value read and the context written; backward also the output gradient and the three
  input gradients); the bias and GELU one elementwise pass over the 4h FFN activation (2 forward, 3 backward); bias,
  dropout and residual add one pass after each of the two sublayers (two inputs and the output plus a 1-byte mask
  forward, 3.5 elements; gradient, mask and input gradient backward, 2.5); LayerNorm 2 forward, 3 backward.

A convolution's or GEMM's backward is two operators of the forward's FLOPs (input and weight gradient); the first
convolution has no input gradient. Nothing here is fitted: the shapes are the architectures' (He et al. 2015 with
torchvision's v1.5 stride; Devlin et al. 2019), the passes the kernels' inputs and outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

ELEMENT_BYTES = 2.0  # fp16 / bf16 activations


@dataclass(frozen=True)
class Op:
    """One operator class, per sample: ``flop`` and activation ``bytes`` of this pass; ``weight_bytes`` per micro-batch."""

    name: str
    kind: str  # "conv", "gemm", "attention", "elementwise"
    flop: float
    bytes: float
    weight_bytes: float = 0.0
    forward: bool = True  # part of the forward pass (computed again with full recomputation)


def _conv(name: str, cin: int, cout: int, k: int, h_in: int, h_out: int, *, first: bool = False) -> list[Op]:
    flop = 2.0 * cin * cout * k * k * h_out * h_out
    x = cin * h_in * h_in * ELEMENT_BYTES
    y = cout * h_out * h_out * ELEMENT_BYTES
    w = cin * cout * k * k * ELEMENT_BYTES
    ops = [Op(f"{name} forward", "conv", flop, x + y, w)]
    if not first:  # the image needs no gradient
        ops.append(Op(f"{name} input gradient", "conv", flop, y + x, w, forward=False))
    ops.append(Op(f"{name} weight gradient", "conv", flop, x + y, w, forward=False))
    return ops


def _elementwise(name: str, elements: float, fwd_passes: float, bwd_passes: float) -> list[Op]:
    return [Op(f"{name} forward", "elementwise", 0.0, elements * fwd_passes * ELEMENT_BYTES),
            Op(f"{name} backward", "elementwise", 0.0, elements * bwd_passes * ELEMENT_BYTES, forward=False)]


def resnet50_v15(image: int = 224, classes: int = 1000) -> list[Op]:
    """ResNet-50 v1.5: a 7x7 stride-2 stem, 3x3 stride-2 max pool, bottleneck stages of 3, 4, 6, 3 blocks (widths 64,
    128, 256, 512, expansion 4, the stride in the 3x3 convolution and the 1x1 projection), average pool, 2048 x 1000."""
    ops: list[Op] = []
    h = image // 2
    ops += _conv("stem 7x7", 3, 64, 7, image, h, first=True)
    ops += _elementwise("stem BN+ReLU", 64 * h * h, 2, 3)
    pooled = h // 2
    ops += _elementwise("max pool", 64 * (h * h + pooled * pooled) / 2, 2, 2)  # read the larger map, write the smaller; and back
    h, cin = pooled, 64
    for stage, (blocks, width, stride) in enumerate(((3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2))):
        for b in range(blocks):
            s = stride if b == 0 else 1
            ho = h // s
            tag = f"stage {stage + 1} block {b + 1}"
            ops += _conv(f"{tag} 1x1 reduce", cin, width, 1, h, h)
            ops += _elementwise(f"{tag} BN+ReLU 1", width * h * h, 2, 3)
            ops += _conv(f"{tag} 3x3", width, width, 3, h, ho)
            ops += _elementwise(f"{tag} BN+ReLU 2", width * ho * ho, 2, 3)
            ops += _conv(f"{tag} 1x1 expand", width, 4 * width, 1, ho, ho)
            if b == 0:
                ops += _conv(f"{tag} 1x1 projection", cin, 4 * width, 1, h, ho)
                ops += _elementwise(f"{tag} projection BN", 4 * width * ho * ho, 2, 3)
            ops += _elementwise(f"{tag} BN+add+ReLU", 4 * width * ho * ho, 3, 4)
            cin, h = 4 * width, ho
    ops += _elementwise("average pool", cin * (h * h + 1) / 2, 2, 2)
    fc = 2.0 * cin * classes
    w = cin * classes * ELEMENT_BYTES
    io = (cin + classes) * ELEMENT_BYTES
    ops += [Op("fc forward", "gemm", fc, io, w), Op("fc input gradient", "gemm", fc, io, w, forward=False),
            Op("fc weight gradient", "gemm", fc, io, w, forward=False)]
    return ops


def bert_encoder(tokens: float, *, layers: int = 24, hidden: int = 1024, ffn: int = 4096, masked: float = 0.15,
                 vocab: int = 30522) -> list[Op]:
    """A BERT encoder over ``tokens`` real tokens per sequence (padding not computed), with the MLM head at the
    ``masked`` fraction of them. GEMM FLOPs 2 (4 h^2 + 2 h f) per token and layer, attention 4 T h."""
    t, h, f, n = float(tokens), float(hidden), float(ffn), float(layers)
    ops: list[Op] = []
    for name, k, m in (("QKV", h, 3 * h), ("attention output", h, h), ("FFN up", h, f), ("FFN down", f, h)):
        flop = 2.0 * k * m * t * n
        io = (k + m) * t * n * ELEMENT_BYTES
        w = k * m * n * ELEMENT_BYTES
        ops += [Op(f"{name} forward", "gemm", flop, io, w), Op(f"{name} input gradient", "gemm", flop, io, w, forward=False),
                Op(f"{name} weight gradient", "gemm", flop, io, w, forward=False)]
    att = 4.0 * t * h * t * n
    ops += [Op("fused attention forward", "attention", att, 4 * h * t * n * ELEMENT_BYTES),
            Op("fused attention backward", "attention", 2 * att, 8 * h * t * n * ELEMENT_BYTES, forward=False)]
    ops += _elementwise("bias+GELU", f * t * n, 2, 3)
    ops += _elementwise("bias+dropout+residual (2 per layer)", 2 * h * t * n, 3.5, 2.5)
    ops += _elementwise("LayerNorm (2 per layer)", 2 * h * t * n, 2, 3)
    head = 2.0 * (h * h + h * vocab) * masked * t
    io = (2 * h + vocab) * masked * t * ELEMENT_BYTES
    w = (h * h + h * vocab) * ELEMENT_BYTES
    ops += [Op("MLM head forward", "gemm", head, io, w), Op("MLM head input gradient", "gemm", head, io, w, forward=False),
            Op("MLM head weight gradient", "gemm", head, io, w, forward=False)]
    return ops


ARCHITECTURES = ("resnet-50-v1.5", "bert-large-encoder")


def ops_for(architecture: str, mean_tokens: float | None = None) -> list[Op]:
    """The operator list a profile's ``ops`` names (``bert-large-encoder`` needs the profile's mean tokens)."""
    if architecture == "resnet-50-v1.5":
        return resnet50_v15()
    if architecture == "bert-large-encoder":
        if mean_tokens is None:
            raise ValueError("bert-large-encoder needs mean_tokens")
        return bert_encoder(mean_tokens)
    raise ValueError(f"unknown architecture {architecture!r}: expected one of {', '.join(ARCHITECTURES)}")


__all__ = ["ARCHITECTURES", "ELEMENT_BYTES", "Op", "bert_encoder", "ops_for", "resnet50_v15"]
