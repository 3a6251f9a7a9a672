"""Per-tensor activation checkpointing: MaxText's ``remat_policy: custom``, where each named tensor of a decoder layer
is rematerialised in the backward pass, saved in device memory, or offloaded to the host's memory
(``MaxText/configs/base.yml`` and ``MaxText/layers/decoders.py`` ``get_remat_policy`` at AI-Hypercomputer/maxtext
9f1820b: ``jax.checkpoint_policies.save_and_offload_only_these_names``, offload_dst ``pinned_host``).

The names are MaxText's ``checkpoint_name`` tags: ``decoder_layer_input`` (the layer's input, where the
rematerialisation of a layer starts: never rematerialised itself), ``query_proj``, ``key_proj``, ``value_proj`` (the
projections' outputs), ``context`` (the attention core's output), ``out_proj``, ``mlpwi`` (the FFN's input
projections: gate and up when gated) and ``mlpwo`` (the FFN's output). A tensor not named is rematerialised
(base.yml's default ``'remat'``), the layer input is kept on device (``'device'``).

What is recomputed (``perf.training``): the forward pass of every layer, less the matmuls whose outputs are saved or
offloaded (their inputs are not needed again but for their weight gradients, which the backward pass computes
anyway); the elementwise operators (norms, activations, residual adds) are recomputed whatever is saved, and the LM
head, outside the layers' checkpoint, is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from tcobench.errors import InputError, close_matches, params_in
from tcobench.perf.transformer import Shape

TENSORS = ("decoder_layer_input", "query_proj", "key_proj", "value_proj", "context", "out_proj", "mlpwi", "mlpwo")
PLACES = ("remat", "device", "offload")


@dataclass(frozen=True, slots=True)
class Remat:
    """Where each named tensor of a decoder layer lives between the forward and the backward pass (``PLACES``)."""

    decoder_layer_input: str = "device"
    query_proj: str = "remat"
    key_proj: str = "remat"
    value_proj: str = "remat"
    context: str = "remat"
    out_proj: str = "remat"
    mlpwi: str = "remat"
    mlpwo: str = "remat"

    def named(self, place: str) -> tuple[str, ...]:
        """The tensors kept at ``place`` ('remat', 'device' or 'offload')."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name) == place)

    def spec(self) -> str:
        """The tensors not at their default place, as ``parse`` reads them: 'name=place,...'."""
        default = Remat()
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                        if getattr(self, f.name) != getattr(default, f.name))


def parse(spec: str | Mapping[str, str], where: str = "{remat}") -> Remat:
    """A policy from 'name=place,...' (``tcobench train --remat``) or a mapping (a validation row's ``remat``).
    Raises InputError naming ``where`` (``{remat}``: the parameter, as the CLI or the API spells it), the bad name or
    place, what was expected, and a close match."""
    params = params_in(where)
    if isinstance(spec, str):
        pairs: dict[str, str] = {}
        for item in (x.strip() for x in spec.split(",")):
            if not item:
                continue
            name, sep, place = item.partition("=")
            if not sep:
                raise InputError(f"{where} {item!r}: expected name=place (e.g. decoder_layer_input=offload), "
                                 f"place one of {', '.join(PLACES)}", params=params)
            pairs[name.strip()] = place.strip()
    else:
        pairs = dict(spec)
    for name, place in pairs.items():
        if name not in TENSORS:
            hint = close_matches(name, TENSORS)
            raise InputError(f"{where}: unknown tensor {name!r}; expected one of {', '.join(TENSORS)}"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""), params=params)
        if place not in PLACES:
            hint = close_matches(place, PLACES)
            raise InputError(f"{where}: {name}={place!r}: expected one of {', '.join(PLACES)}"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""), params=params)
    if pairs.get("decoder_layer_input") == "remat":
        raise InputError(f"{where}: decoder_layer_input=remat: the layer input is where rematerialisation starts; "
                         "expected device or offload (MaxText base.yml)", params=params)
    return Remat(**pairs)


def elements(s: Shape, tensor: str) -> tuple[float, bool]:
    """Elements per token per layer of one named tensor, averaged over the layers, and whether tensor parallelism
    splits it (the hidden-sized ones are split only by sequence parallelism)."""
    kv = s.kv_heads * s.head_dim
    q = s.heads * s.head_dim
    gated = 2.0 if s.ffn_gated else 1.0
    dense = gated * s.ffn_width
    moe = gated * (s.top_k * s.expert_width + s.shared_width)
    ffn_in = (s.dense_layers * dense + s.moe_layers * moe) / max(s.layers, 1)
    return {"decoder_layer_input": (float(s.hidden), False), "query_proj": (float(q), True), "key_proj": (float(kv), True),
            "value_proj": (float(kv), True), "context": (float(q), True), "out_proj": (float(s.hidden), False),
            "mlpwi": (ffn_in, True), "mlpwo": (float(s.hidden), False)}[tensor]


def saved_share(s: Shape, r: Remat, op: str) -> float:
    """The share of a forward operator (``layer.layer_ops``'s names) whose output the policy keeps (on device or on
    the host), so that the backward pass does not recompute it: the QKV projection by its q, k and v widths, the FFN
    by its input projections (``mlpwi``: 2 of 3 matrices when gated) and output projection (``mlpwo``)."""
    kept = {t for t in TENSORS if getattr(r, t) != "remat"}
    if op == "qkv_proj":
        q, kv = s.heads * s.head_dim, s.kv_heads * s.head_dim
        width = q + 2 * kv
        return (q * ("query_proj" in kept) + kv * ("key_proj" in kept) + kv * ("value_proj" in kept)) / width
    if op in ("attention", "attention_local"):
        return float("context" in kept)
    if op == "out_proj":
        return float("out_proj" in kept)
    if op in ("ffn", "moe_experts", "moe_shared_router"):
        n_in = 2.0 if s.ffn_gated else 1.0
        return (n_in * ("mlpwi" in kept) + ("mlpwo" in kept)) / (n_in + 1.0)
    if op == "lm_head":  # outside the layers' checkpoint: never recomputed
        return 1.0
    return 0.0
