"""Why a configuration cannot serve: one bit flag per reason, several at once, with named groups.

The vectorised model returns an int32 array of these flags per configuration (``Result.code``: 0 when the
deployment is valid, fits and meets its SLOs); ``text`` turns a code into words. Groups:

    INVALID   the deployment cannot exist as described (layout, missing figures, context): an error in
              ``predict``, a layout to skip in a search
    MEMORY    it exists but does not fit in memory
    SLO       it runs but misses a latency target
"""

from __future__ import annotations

from enum import IntFlag


class Reason(IntFlag):
    TP_HEADS = 1
    TP_KV_HEADS = 2
    CHIPS_LAYOUT = 4
    PP_LAYERS = 8
    EP_EXPERTS = 16
    NO_PEAK = 32
    NO_LINK = 64
    CONTEXT = 128
    MEMORY = 256
    TTFT_SLO = 512
    TPOT_SLO = 1024
    LAYOUT_2D = 2048
    BATCH = 4096
    SEQUENCE = 8192
    ENGINE_CAP = 16384

    INVALID = (TP_HEADS | TP_KV_HEADS | CHIPS_LAYOUT | PP_LAYERS | EP_EXPERTS | NO_PEAK | NO_LINK | CONTEXT | LAYOUT_2D | BATCH
               | SEQUENCE | ENGINE_CAP)
    SLO = TTFT_SLO | TPOT_SLO


TEXT = {
    Reason.TP_HEADS: "tp does not divide the attention heads",
    Reason.TP_KV_HEADS: "tp and the KV heads do not divide one another",
    Reason.CHIPS_LAYOUT: "chips are not a multiple of tp x pp x ep",
    Reason.PP_LAYERS: "pp (x vpp in training) is larger than the number of layers",
    Reason.EP_EXPERTS: "ep needs an MoE model whose experts (plus redundant ones) ep (or moe_ep) divides, moe_ep must divide tp x ep, "
                         "and redundant experts need moe_ep > 1",
    Reason.NO_PEAK: "the chip has no peak FLOP/s at this precision in the catalog",
    Reason.NO_LINK: "no interconnect bandwidth is known for this group size",
    Reason.CONTEXT: "input_len + output_len exceeds the model's maximum context",
    Reason.MEMORY: "does not fit in memory",
    Reason.TTFT_SLO: "misses the TTFT SLO",
    Reason.TPOT_SLO: "misses the TPOT SLO",
    Reason.LAYOUT_2D: "the 2d layout needs a dense model and tp = x * yz with yz dividing the attention heads",
    Reason.BATCH: "the global batch is not a multiple of micro-batch x dp",
    Reason.SEQUENCE: "the sequence length is not a multiple of 2 x cp (context parallelism's load balancing)",
    Reason.ENGINE_CAP: "the batch is above the serving stack's default cap on running sequences (its max_num_seqs)",
}


_WORDS = [(int(flag), words) for flag, words in TEXT.items()]  # plain ints: enum arithmetic is slow per call


def text(code: int) -> str | None:
    """The reasons in ``code`` in words, in flag order; None for 0."""
    code = int(code)
    if not code:
        return None
    return "; ".join(words for flag, words in _WORDS if code & flag)
