# PyTorch peer for bench/engine/run.ts: the same Llama shape (RMSNorm, RoPE, SwiGLU, GQA, tied embeddings),
# one training step = forward + backward + AdamW. Prints one JSON line with median milliseconds.
import json, sys, time, math
import torch
import torch.nn.functional as F

c = json.loads(sys.argv[1])
torch.set_num_threads(1)  # BLAS threads come from OPENBLAS_NUM_THREADS (REFERENCES: best this way)
torch.manual_seed(0)
D, L, H, KV, I, V = c['hidden_size'], c['num_hidden_layers'], c['num_attention_heads'], c['num_key_value_heads'], c['intermediate_size'], c['vocab_size']
hd = D // H; B, T = c['batch'], c['ctx']
P = []
def p(*shape, std=0.02, ones=False):
    t = torch.ones(*shape) if ones else torch.randn(*shape) * std
    t.requires_grad_(True); P.append(t); return t
emb = p(V, D)
layers = [dict(n1=p(D, ones=True), q=p(H*hd, D), k=p(KV*hd, D), v=p(KV*hd, D), o=p(D, H*hd), n2=p(D, ones=True), g=p(I, D), u=p(I, D), d=p(D, I)) for _ in range(L)]
nf = p(D, ones=True)
inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
ang = torch.arange(T).float()[:, None] * inv[None, :]
cos = torch.cat([ang.cos(), ang.cos()], -1); sin = torch.cat([ang.sin(), ang.sin()], -1)
def rms(x, w): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w
def rot(x): return torch.cat([-x[..., hd//2:], x[..., :hd//2]], -1)
mask = torch.full((T, T), float('-inf')).triu(1)
def forward(tok):
    x = emb[tok]
    for l in layers:
        h = rms(x, l['n1'])
        q = (h @ l['q'].t()).view(B, T, H, hd).transpose(1, 2)
        k = (h @ l['k'].t()).view(B, T, KV, hd).transpose(1, 2)
        v = (h @ l['v'].t()).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rot(q) * sin; k = k * cos + rot(k) * sin
        if KV != H: k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1) @ v
        x = x + a.transpose(1, 2).reshape(B, T, H*hd) @ l['o'].t()
        h2 = rms(x, l['n2'])
        x = x + (F.silu(h2 @ l['g'].t()) * (h2 @ l['u'].t())) @ l['d'].t()
    return rms(x, nf) @ emb.t()
opt = torch.optim.AdamW(P, lr=1e-4, weight_decay=0.0)
tok = torch.randint(0, V, (B, T)); tgt = torch.randint(0, V, (B, T))
tot, fb, op = [], [], []
WARM = 1
for i in range(WARM + int(c.get('steps', 5))):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(forward(tok).view(-1, V), tgt.view(-1))
    loss.backward()
    t1 = time.perf_counter()
    opt.step()
    t2 = time.perf_counter()
    if i >= WARM: tot.append((t2 - t0) * 1000); fb.append((t1 - t0) * 1000); op.append((t2 - t1) * 1000)
med = lambda xs: sorted(xs)[len(xs) // 2]
print(json.dumps({'stepMs': med(tot), 'stepMinMs': min(tot), 'fwdBwdMs': med(fb), 'optMs': med(op)}))
