# PyTorch peer for bench/size/run.ts: SmolLM2-135M's shape (RMSNorm, RoPE, SwiGLU, GQA, tied embeddings), frozen
# random base, LoRA (PEFT semantics: A kaiming-uniform, B zeros, scale alpha/r) on the given projections, AdamW on
# the adapter only. One step = forward + backward + AdamW. Prints one JSON line: per-step ms, losses, peak RSS.
import json, sys, time, math, resource
import torch
import torch.nn.functional as F

c = json.loads(sys.argv[1])
th = int(c.get('threads', 1))
torch.set_num_threads(th)
torch.manual_seed(0)
D, L, H, KV, I, V = c['hidden_size'], c['num_hidden_layers'], c['num_attention_heads'], c['num_key_value_heads'], c['intermediate_size'], c['vocab_size']
hd = D // H
B, T = c['batch'], c['seq']
r, alpha, targets = c['rank'], c['alpha'], set(c['targets'])
scale = alpha / r
def w(*shape, std=0.02):
    return torch.randn(*shape) * std
emb = w(V, D)
dims = dict(q=(H*hd, D), k=(KV*hd, D), v=(KV*hd, D), o=(D, H*hd), gate=(I, D), up=(I, D), down=(D, I))
lora_params = []
layers = []
for _ in range(L):
    l = dict(n1=torch.ones(D), n2=torch.ones(D))
    for m, (o, i) in dims.items():
        l[m] = w(o, i)
        if f'{m}_proj' in targets:
            A = torch.empty(r, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)).requires_grad_(True)
            Bm = torch.zeros(o, r).requires_grad_(True)
            l[m + '_lora'] = (A, Bm)
            lora_params += [A, Bm]
    layers.append(l)
nf = torch.ones(D)
inv = 1.0 / (c.get('rope_theta', 10000.0) ** (torch.arange(0, hd, 2).float() / hd))
ang = torch.arange(T).float()[:, None] * inv[None, :]
cos = torch.cat([ang.cos(), ang.cos()], -1); sin = torch.cat([ang.sin(), ang.sin()], -1)
eps = c.get('rms_norm_eps', 1e-5)
def rms(x, wt): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * wt
def rot(x): return torch.cat([-x[..., hd//2:], x[..., :hd//2]], -1)
mask = torch.full((T, T), float('-inf')).triu(1)
def proj(l, m, x):
    y = x @ l[m].t()
    if m + '_lora' in l:
        A, Bm = l[m + '_lora']
        y = y + (x @ A.t()) @ Bm.t() * scale
    return y
def forward(tok):
    x = emb[tok]
    for l in layers:
        h = rms(x, l['n1'])
        q = proj(l, 'q', h).view(B, T, H, hd).transpose(1, 2)
        k = proj(l, 'k', h).view(B, T, KV, hd).transpose(1, 2)
        v = proj(l, 'v', h).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rot(q) * sin; k = k * cos + rot(k) * sin
        if KV != H: k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1) @ v
        x = x + proj(l, 'o', a.transpose(1, 2).reshape(B, T, H*hd))
        h2 = rms(x, l['n2'])
        x = x + proj(l, 'down', F.silu(proj(l, 'gate', h2)) * proj(l, 'up', h2))
    return rms(x, nf) @ emb.t()
opt = torch.optim.AdamW(lora_params, lr=c.get('lr', 1e-4), weight_decay=0.0)
g = torch.Generator().manual_seed(7)
tok = torch.randint(3, V, (B, T), generator=g)
ms, losses = [], []
for i in range(int(c.get('steps', 3))):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    logits = forward(tok)
    # T tokens per row, T-1 targets (the last position predicts nothing), as tunelab's step
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), tok[:, 1:].reshape(-1))
    loss.backward()
    opt.step()
    ms.append((time.perf_counter() - t0) * 1000); losses.append(loss.item())
    del logits, loss
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({'ms': ms, 'losses': losses, 'peakRss': peak, 'threads': th, 'trainable': sum(p.numel() for p in lora_params)}))
