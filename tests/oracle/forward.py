#!/usr/bin/python3
"""Independent oracle for attnlab's model runtime: re-implements the forward pass from the math in float64 numpy.

Each DIR holds config.json + model.safetensors (TransformerLens names; every tensor is listed by
config_tensor_shapes() in src/model/config.cpp) and io.safetensors written by tests/model/test_oracle.cpp: the
inputs (tokens int64 [B, T] and/or numbers f64 [B, T, I]) and the runtime's outputs (logits f64 [B, T, O], or
[B, 1, O] for an RNN with readout "last"). We recompute the logits and print the max abs error per model; exit 1 if
any exceeds --tol (with --expect-mismatch: exit 0 only if ALL exceed it).
Independent on purpose: own safetensors parser (struct + json + numpy), numpy instead of ATen for the maths, and
the RNN cells written from their equations (cross-checked against torch.nn.LSTM/GRU/RNN when torch imports), the
lru (diagonal linear recurrence) in numpy complex128 where the runtime uses (re, im) pairs of real tensors.
Shapes: B = batch, T = seq len, R = d_model, H = heads, D = d_head, M = d_mlp, I = d_in_num, O = d_vocab_out.
Run with /usr/bin/python3 (Debian's, with python3-numpy and python3-torch).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

# ----------------------------------------------------------------------------------------------- safetensors

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U8": "u1", "BOOL": "?"}


def safetensors_read(path):
    """{name: float64 or int64 numpy array}: [u64 LE header length N][N bytes JSON][data]."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(blob)} bytes)")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = info["dtype"], [int(s) for s in info["shape"]], info["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: tensor {name}: data_offsets [{begin}, {end}] outside the data "
                             f"({len(data)} bytes)")
        raw = data[begin:end]
        if dtype == "BF16":  # bfloat16 = the top half of a float32
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view("<f4")
        elif dtype in _DTYPES:
            arr = np.frombuffer(raw, dtype=_DTYPES[dtype])
        else:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        if arr.size != math.prod(shape):
            raise ValueError(f"{path}: tensor {name}: {arr.size} elements but shape {shape}")
        arr = arr.reshape(shape)
        out[name] = arr.astype(np.int64) if arr.dtype.kind in "iub" else arr.astype(np.float64)
    return out

# ----------------------------------------------------------------------------------------------- config


def config_parse(j):
    """The fields the forward pass needs, with TransformerLens defaults."""
    a = j.get("attnlab") or {}
    rnn = a.get("rnn") or {}
    scale = (j.get("attn_scale") or math.sqrt(j.get("d_head") or 1)) if j.get("use_attn_scale", True) else 1.0
    c = dict(model_type=a.get("model_type", "transformer"), n_layers=j.get("n_layers", 1),
             d_model=j["d_model"], n_heads=j.get("n_heads", 0), d_head=j.get("d_head", 0),
             mlp=a.get("mlp") or j.get("act_fn") or "relu", norm=j.get("normalization_type") or "none",
             causal=j.get("attention_dir", "bidirectional") == "causal", attn_only=bool(j.get("attn_only", False)),
             pos=j.get("positional_embedding_type", "standard"), attn_scale=float(scale), eps=float(j.get("eps", 1e-5)),
             attention=a.get("attention", "softmax"), hard_tol=float(a.get("hard_tol", 1e-6)),
             hidden=rnn.get("hidden_size", 0), nonlinearity=rnn.get("nonlinearity", "tanh"),
             readout=rnn.get("readout", "per_position"))
    checks = [("model_type", ("transformer", "lstm", "gru", "rnn", "lru")), ("mlp", ("relu", "gelu", "identity", "bilinear")),
              ("norm", ("LN", "none")), ("pos", ("standard", "sinusoidal", "none")), ("attention", ("softmax", "hard")),
              ("nonlinearity", ("tanh", "relu")), ("readout", ("per_position", "last"))]
    for key, allowed in checks:
        if c[key] not in allowed:
            raise ValueError(f"config field {key}={c[key]!r} is not one of {allowed}")
    return c

# ----------------------------------------------------------------------------------------------- transformer


def embed(w, io):
    """x = W_E[tokens] + numbers @ W_in_num: [B, T, R]."""
    x = 0.0
    if "tokens" in io:
        x = x + w["embed.W_E"][io["tokens"]]
    if "numbers" in io:
        x = x + io["numbers"] @ w["embed.W_in_num"]
    return x


def sinusoidal(T, R):
    """P[t, 2i] = sin(t / 10000^(2i/R)), P[t, 2i+1] = cos(t / 10000^(2i/R)): [T, R]."""
    P = np.zeros((T, R))
    for t in range(T):
        for d in range(R):
            even = d - d % 2
            angle = t / 10000.0 ** (even / R)
            P[t, d] = math.sin(angle) if d % 2 == 0 else math.cos(angle)
    return P


def layer_norm(x, weight, bias, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)  # biased, as torch / TransformerLens
    return (x - mu) / np.sqrt(var + eps) * weight + bias


def attention(c, w, p, x, stats):
    """Multi-head attention on x [B, T, R]; returns [B, T, R]."""
    T = x.shape[1]
    q = np.einsum("btr,hrd->bhtd", x, w[p + "W_Q"]) + w[p + "b_Q"][None, :, None, :]
    k = np.einsum("btr,hrd->bhtd", x, w[p + "W_K"]) + w[p + "b_K"][None, :, None, :]
    v = np.einsum("btr,hrd->bhtd", x, w[p + "W_V"]) + w[p + "b_V"][None, :, None, :]
    scores = np.einsum("bhqd,bhkd->bhqk", q, k) / c["attn_scale"]  # [B, H, Tq, Tk]
    allowed = np.tril(np.ones((T, T), dtype=bool)) if c["causal"] else np.ones((T, T), dtype=bool)
    scores = np.where(allowed, scores, -np.inf)
    rowmax = scores.max(-1, keepdims=True)
    if c["attention"] == "softmax":
        e = np.exp(scores - rowmax)
        pattern = e / e.sum(-1, keepdims=True)
    else:  # average-hard: uniform over the keys within hard_tol of the row maximum
        gap = rowmax - scores
        chosen = allowed & (gap <= c["hard_tol"])
        pattern = chosen / chosen.sum(-1, keepdims=True)
        stats["tied_rows"] += int((chosen.sum(-1) > 1).sum())
        stats["rows"] += chosen.shape[0] * chosen.shape[1] * chosen.shape[2]
        stats["near_boundary"] += int((allowed & (np.abs(gap - c["hard_tol"]) < 1e-9)).sum())
    z = np.einsum("bhqk,bhkd->bhqd", pattern, v)
    return np.einsum("bhqd,hdr->bqr", z, w[p + "W_O"]) + w[p + "b_O"]


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def mlp(c, w, p, x):
    pre = x @ w[p + "W_in"] + w[p + "b_in"]
    kind = c["mlp"]
    if kind == "relu":
        h = np.maximum(pre, 0.0)
    elif kind == "gelu":
        h = gelu(pre)
    elif kind == "identity":
        h = pre
    else:  # bilinear
        h = pre * (x @ w[p + "W_gate"] + w[p + "b_gate"])
    return h @ w[p + "W_out"] + w[p + "b_out"]


def transformer_forward(c, w, io, stats):
    x = embed(w, io)
    T, R = x.shape[1], c["d_model"]
    if c["pos"] == "standard":
        x = x + w["pos_embed.W_pos"][:T]
    elif c["pos"] == "sinusoidal":
        x = x + sinusoidal(T, R)
    ln = c["norm"] == "LN"
    for layer in range(c["n_layers"]):
        b = f"blocks.{layer}."
        h = layer_norm(x, w[b + "ln1.w"], w[b + "ln1.b"], c["eps"]) if ln else x
        x = x + attention(c, w, b + "attn.", h, stats)
        if not c["attn_only"]:
            h = layer_norm(x, w[b + "ln2.w"], w[b + "ln2.b"], c["eps"]) if ln else x
            x = x + mlp(c, w, b + "mlp.", h)
    if ln:
        x = layer_norm(x, w["ln_final.w"], w["ln_final.b"], c["eps"])
    return x @ w["unembed.W_U"] + w["unembed.b_U"]

# ----------------------------------------------------------------------------------------------- RNNs


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rnn_layer(kind, nonlinearity, w, l, xs):
    """One layer over xs [B, T, In] from a zero state; returns hidden states [B, T, Hd]. torch.nn equations."""
    W_ih, W_hh, b_ih, b_hh = (w[f"rnn.{n}_l{l}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    B, T = xs.shape[:2]
    Hd = W_hh.shape[1]
    h, cell, out = np.zeros((B, Hd)), np.zeros((B, Hd)), []
    for t in range(T):
        gi = xs[:, t] @ W_ih.T + b_ih
        gh = h @ W_hh.T + b_hh
        if kind == "lstm":  # gates i, f, g, o
            i, f, g, o = (gi[:, n * Hd:(n + 1) * Hd] + gh[:, n * Hd:(n + 1) * Hd] for n in range(4))
            cell = sigmoid(f) * cell + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(cell)
        elif kind == "gru":  # gates r, z, n; the reset gate scales (W_hn h + b_hn)
            r = sigmoid(gi[:, :Hd] + gh[:, :Hd])
            z = sigmoid(gi[:, Hd:2 * Hd] + gh[:, Hd:2 * Hd])
            n = np.tanh(gi[:, 2 * Hd:] + r * gh[:, 2 * Hd:])
            h = (1.0 - z) * n + z * h
        else:  # Elman
            pre = gi + gh
            h = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0.0)
        out.append(h)
    return np.stack(out, axis=1)


def rnn_torch_crosscheck(c, w, x, ours):
    """The same stack through torch.nn.LSTM/GRU/RNN; returns the max abs difference, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    kind, Hd = c["model_type"], c["hidden"]
    ctor = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    extra = {"nonlinearity": c["nonlinearity"]} if kind == "rnn" else {}
    net = ctor(x.shape[-1], Hd, num_layers=c["n_layers"], batch_first=True, **extra).double()
    with torch.no_grad():
        for name, param in net.named_parameters():
            param.copy_(torch.from_numpy(w["rnn." + name]))
        hs, _ = net(torch.from_numpy(np.ascontiguousarray(x)))
    return float(np.abs(hs.numpy() - ours).max())


def rnn_forward(c, w, io, stats):
    x = embed(w, io)
    hs = x
    for l in range(c["n_layers"]):
        hs = rnn_layer(c["model_type"], c["nonlinearity"], w, l, hs)
    stats["torch_crosscheck"] = rnn_torch_crosscheck(c, w, x, hs)
    if c["readout"] == "last":
        hs = hs[:, -1:]
    return hs @ w["unembed.W_U"] + w["unembed.b_U"]

# ----------------------------------------------------------------------------------------------- LRU


def lru_forward(c, w, io, stats):
    """Blocks x <- x + GLU(LRU(LN(x))) (Orvieto et al. 2023), written with complex numbers:
    h_t = lam * h_{t-1} + gamma * (B u_t), lam = exp(-exp(nu_log) + i exp(theta_log)), gamma = exp(gamma_log),
    y_t = Re(C h_t) + D * u_t, GLU(y) = (y W_a + b_a) * sigmoid(y W_g + b_g). N = hidden_size."""
    x = embed(w, io)
    for layer in range(c["n_layers"]):
        p = f"blocks.{layer}."
        u = layer_norm(x, w[p + "ln.w"], w[p + "ln.b"], c["eps"])  # [B, T, R]
        lam = np.exp(-np.exp(w[p + "lru.nu_log"]) + 1j * np.exp(w[p + "lru.theta_log"]))  # [N]
        gamma = np.exp(w[p + "lru.gamma_log"])
        Bc = w[p + "lru.B_re"] + 1j * w[p + "lru.B_im"]  # [N, R]
        Cc = w[p + "lru.C_re"] + 1j * w[p + "lru.C_im"]  # [R, N]
        h = np.zeros((u.shape[0], Bc.shape[0]), dtype=np.complex128)
        ys = []
        for t in range(u.shape[1]):
            h = lam * h + gamma * (u[:, t] @ Bc.T)
            ys.append((h @ Cc.T).real + w[p + "lru.D"] * u[:, t])
        y = np.stack(ys, axis=1)
        x = x + (y @ w[p + "glu.W_a"] + w[p + "glu.b_a"]) * sigmoid(y @ w[p + "glu.W_g"] + w[p + "glu.b_g"])
    if c["readout"] == "last":
        x = x[:, -1:]
    return x @ w["unembed.W_U"] + w["unembed.b_U"]

# ----------------------------------------------------------------------------------------------- driver


def check_model(d):
    """(max abs error, report line) for one model directory."""
    with open(os.path.join(d, "config.json")) as f:
        c = config_parse(json.load(f))
    w = safetensors_read(os.path.join(d, "model.safetensors"))
    io = safetensors_read(os.path.join(d, "io.safetensors"))
    theirs = io.pop("logits")
    stats = dict(tied_rows=0, rows=0, near_boundary=0, torch_crosscheck=None)
    forward = {"transformer": transformer_forward, "lru": lru_forward}.get(c["model_type"], rnn_forward)
    ours = forward(c, w, io, stats)
    if ours.shape != theirs.shape:
        return math.inf, f"shape mismatch: oracle {list(ours.shape)} vs runtime {list(theirs.shape)}"
    err = float(np.abs(ours - theirs).max()) if ours.size else math.inf  # nan propagates through max
    line = f"max_abs_err={err:.3e} shape={list(ours.shape)} max_abs_logit={np.abs(ours).max():.3g}"
    if c["attention"] == "hard" and c["model_type"] == "transformer":
        line += f" tied_rows={stats['tied_rows']}/{stats['rows']} near_boundary={stats['near_boundary']}"
    if stats["torch_crosscheck"] is not None:
        line += f" torch_nn_diff={stats['torch_crosscheck']:.3e}"
        err = max(err, stats["torch_crosscheck"]) if not math.isnan(err) else err
    return err, line


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="+", help="model directories (config.json, model.safetensors, io.safetensors)")
    ap.add_argument("--tol", type=float, default=1e-10, help="max abs error allowed (default 1e-10)")
    ap.add_argument("--expect-mismatch", action="store_true",
                    help="invert: succeed only if EVERY model exceeds --tol (proves the oracle can fail)")
    args = ap.parse_args()
    failed, worst = [], 0.0
    for d in args.dirs:
        name = os.path.basename(os.path.normpath(d))
        try:
            err, line = check_model(d)
            ok = err <= args.tol  # False for nan
            failed += [name] if ok == args.expect_mismatch else []
        except Exception as e:  # a model the oracle cannot evaluate fails in either mode, reported by name
            err, ok, line = math.nan, False, f"error: {type(e).__name__}: {e}"
            failed.append(name)
        worst = math.nan if math.isnan(err) or math.isnan(worst) else max(worst, err)
        print(f"{name}: {line} {'ok' if ok else 'MISMATCH'}")
    print(f"oracle: {len(args.dirs)} models, worst max_abs_err={worst:.3e}, tol={args.tol:g}, "
          f"{'expecting mismatches, ' if args.expect_mismatch else ''}{len(failed)} failed{': ' if failed else ''}"
          f"{', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
