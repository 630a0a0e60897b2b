"""PyTorch eager peer for bench/train_bench.cpp: trains the same model from the same initial weights on the same
batch (read from the directory the C++ bench writes) with the same step: forward, per-position cross-entropy,
backward, torch.optim.AdamW(lr=1e-3, weight_decay=0). Written the way a PyTorch user would: nn.Parameters,
F.layer_norm / F.softmax / F.cross_entropy, torch.nn.LSTM for the LSTM.
Usage: /usr/bin/python3 train_peer.py DIR MODEL THREADS ITERS   (MODEL: d64 | tiny | lstm)"""
import json, resource, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F

DT = {"F32": ("<f4", torch.float32), "I64": ("<i8", torch.int64), "F64": ("<f8", torch.float64)}


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        np_dt, _ = DT[info["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype=np_dt).reshape(info["shape"]).copy())
    return out


class Transformer(torch.nn.Module):
    def __init__(self, w, cfg):
        super().__init__()
        self.cfg = cfg
        self.p = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v) for k, v in w.items()})

    def forward(self, tokens):
        cfg, p = self.cfg, self.p
        B, T = tokens.shape
        R, H, D, L = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["n_layers"]
        x = p["embed__W_E"][tokens] + p["pos_embed__W_pos"][:T]
        for l in range(L):
            a = f"blocks__{l}__"
            h = F.layer_norm(x, (R,), p[a + "ln1__w"], p[a + "ln1__b"], 1e-5)
            Wqkv = torch.cat([p[a + "attn__W_Q"], p[a + "attn__W_K"], p[a + "attn__W_V"]], 0).permute(1, 0, 2).reshape(R, 3 * H * D)
            bqkv = torch.cat([p[a + "attn__b_Q"], p[a + "attn__b_K"], p[a + "attn__b_V"]], 0).reshape(3 * H * D)
            q, k, v = torch.addmm(bqkv, h.reshape(B * T, R), Wqkv).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)
            s = (q @ k.transpose(-1, -2)) / (D ** 0.5)
            z = (F.softmax(s, -1) @ v).permute(0, 2, 1, 3).reshape(B * T, H * D)
            x = x + torch.addmm(p[a + "attn__b_O"], z, p[a + "attn__W_O"].reshape(H * D, R)).view(B, T, R)
            h = F.layer_norm(x, (R,), p[a + "ln2__w"], p[a + "ln2__b"], 1e-5)
            h = F.relu(h @ p[a + "mlp__W_in"] + p[a + "mlp__b_in"])
            x = x + h @ p[a + "mlp__W_out"] + p[a + "mlp__b_out"]
        x = F.layer_norm(x, (R,), p["ln_final__w"], p["ln_final__b"], 1e-5)
        return x @ p["unembed__W_U"] + p["unembed__b_U"]


class Lstm(torch.nn.Module):
    def __init__(self, w, cfg):
        super().__init__()
        self.W_E = torch.nn.Parameter(w["embed.W_E"])
        self.lstm = torch.nn.LSTM(cfg["d_model"], cfg["attnlab"]["rnn"]["hidden_size"], batch_first=True)
        with torch.no_grad():
            for n in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]:
                getattr(self.lstm, n).copy_(w["rnn." + n])
        self.W_U = torch.nn.Parameter(w["unembed.W_U"])
        self.b_U = torch.nn.Parameter(w["unembed.b_U"])

    def forward(self, tokens):
        h, _ = self.lstm(self.W_E[tokens])
        return h @ self.W_U + self.b_U


def main():
    d, which, threads, iters = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    cfg = json.load(open(d + "/config.json"))
    w = read_safetensors(d + "/model.safetensors")
    batch = read_safetensors(d + "/batch.safetensors")
    tokens, targets = batch["tokens"], batch["targets"]
    model = Lstm(w, cfg) if which == "lstm" else Transformer(w, cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    O = targets.max().item() + 1

    def step():
        logits = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for _ in range(5):
        step()
    t0 = time.perf_counter()
    for _ in range(iters):
        loss = step().item()
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "pytorch", "model": which, "threads": threads, "iters": iters,
                      "steps_per_s": round(iters / secs, 2), "ms_per_step": round(1e3 * secs / iters, 3),
                      "final_loss": round(loss, 6), "peak_rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    main()
