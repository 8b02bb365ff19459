# Independent forward of Hugging Face Llama math in PyTorch, on weights written by bench/engine/run.ts
# (raw little-endian float32, tensors in the order of c['params']). Writes logits [B*T*V] float32 to c['out'].
import json, sys, math
import torch
import torch.nn.functional as F
c = json.loads(sys.argv[1])
raw = open(c['weights'], 'rb').read()
flat = torch.frombuffer(bytearray(raw), dtype=torch.float32)
W, off = {}, 0
for name, shape in c['params']:
    n = 1
    for d in shape: n *= d
    W[name] = flat[off:off + n].view(*shape); off += n
D, L, H, KV, V = c['hidden_size'], c['num_hidden_layers'], c['num_attention_heads'], c['num_key_value_heads'], c['vocab_size']
hd = c.get('head_dim') or D // H
eps, theta = c['rms_norm_eps'], c['rope_theta']
tok = torch.tensor(c['tokens']); B, T = tok.shape
inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
ang = torch.arange(T).float()[:, None] * inv[None, :]
emb = torch.cat([ang, ang], -1); cos, sin = emb.cos(), emb.sin()
def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
def rot(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)
mask = torch.full((T, T), float('-inf')).triu(1)
with torch.no_grad():
    x = W['model.embed_tokens.weight'][tok]
    for l in range(L):
        p = f'model.layers.{l}'
        h = rms(x, W[f'{p}.input_layernorm.weight'])
        q = (h @ W[f'{p}.self_attn.q_proj.weight'].t()).view(B, T, H, hd).transpose(1, 2)
        k = (h @ W[f'{p}.self_attn.k_proj.weight'].t()).view(B, T, KV, hd).transpose(1, 2)
        v = (h @ W[f'{p}.self_attn.v_proj.weight'].t()).view(B, T, KV, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k = k[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        v = v[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        a = torch.softmax(q @ k.transpose(2, 3) * hd ** -0.5 + mask, -1) @ v
        x = x + a.transpose(1, 2).reshape(B, T, H * hd) @ W[f'{p}.self_attn.o_proj.weight'].t()
        h = rms(x, W[f'{p}.post_attention_layernorm.weight'])
        x = x + (F.silu(h @ W[f'{p}.mlp.gate_proj.weight'].t()) * (h @ W[f'{p}.mlp.up_proj.weight'].t())) @ W[f'{p}.mlp.down_proj.weight'].t()
    x = rms(x, W['model.norm.weight'])
    head = W['model.embed_tokens.weight'] if c['tie_word_embeddings'] else W['lm_head.weight']
    logits = (x @ head.t()).contiguous()
open(c['out'], 'wb').write(logits.numpy().tobytes() if hasattr(logits, 'numpy') else bytes(logits.untyped_storage()))
