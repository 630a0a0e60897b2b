"""PyTorch eager peer for bench/forward_bench.cpp: the same weights (read from the model directory written by
the C++ bench), the same math, written the way a PyTorch user would (fused QKV matmul prepared once at load,
F.layer_norm, F.softmax, torch.inference_mode). Usage: /usr/bin/python3 forward_peer.py DIR THREADS ITERS"""
import json, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info["dtype"]
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy())
    return out


class Peer(torch.nn.Module):
    def __init__(self, w, cfg):
        super().__init__()
        self.cfg, self.w = cfg, w
        R, H, D = cfg["d_model"], cfg["n_heads"], cfg["d_head"]
        self.qkv = []
        for l in range(cfg["n_layers"]):
            p = f"blocks.{l}.attn."
            W = torch.cat([w[p + "W_Q"], w[p + "W_K"], w[p + "W_V"]], 0).permute(1, 0, 2).reshape(R, 3 * H * D)
            b = torch.cat([w[p + "b_Q"], w[p + "b_K"], w[p + "b_V"]], 0).reshape(3 * H * D)
            self.qkv.append((W.contiguous(), b, w[p + "W_O"].reshape(H * D, R), w[p + "b_O"]))

    def forward(self, tokens):
        cfg, w = self.cfg, self.w
        B, T = tokens.shape
        R, H, D, eps = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["eps"]
        x = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][:T]
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        for l, (Wqkv, bqkv, Wo, bo) in enumerate(self.qkv):
            p = f"blocks.{l}."
            h = F.layer_norm(x, (R,), w[p + "ln1.w"], w[p + "ln1.b"], eps)
            q, k, v = torch.addmm(bqkv, h.reshape(B * T, R), Wqkv).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)
            s = (q @ k.transpose(-1, -2)) / cfg["attn_scale"]
            s = s.masked_fill(mask, float("-inf"))
            z = (F.softmax(s, -1) @ v).permute(0, 2, 1, 3).reshape(B * T, H * D)
            x = x + torch.addmm(bo, z, Wo).view(B, T, R)
            h = F.layer_norm(x, (R,), w[p + "ln2.w"], w[p + "ln2.b"], eps)
            h = F.relu(h @ w[p + "mlp.W_in"] + w[p + "mlp.b_in"])
            x = x + h @ w[p + "mlp.W_out"] + w[p + "mlp.b_out"]
        x = F.layer_norm(x, (R,), w["ln_final.w"], w["ln_final.b"], eps)
        return x @ w["unembed.W_U"] + w["unembed.b_U"]


def main():
    d, threads, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    cfg = json.load(open(d + "/config.json"))
    model = Peer(read_safetensors(d + "/model.safetensors"), cfg)
    g = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, 64, (64, 64), generator=g)
    with torch.inference_mode():
        for _ in range(20):
            model(tokens)
        t0 = time.perf_counter()
        checksum = 0.0
        for _ in range(iters):
            checksum += model(tokens).sum().item()
        secs = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch-eager", "torch": torch.__version__, "threads": threads, "iters": iters,
                      "ms_per_forward": round(1e3 * secs / iters, 4), "tokens_per_s": round(64 * 64 * iters / secs),
                      "checksum": float("%.6g" % (checksum / iters))}))


if __name__ == "__main__":
    main()
