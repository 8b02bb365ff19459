#!/usr/bin/env python3
"""Small random Hugging Face checkpoints in each layout tunelab loads, with reference logits.

Writes test/fixtures/layouts/<name>/ for name in llama (SmolLM2-like), llama3 (Llama 3.2-like, llama3 rope
scaling), qwen2 (Qwen2.5-like: q/k/v biases, sharded) and qwen3 (Qwen3-like: per-head q/k RMSNorm, head_dim != hidden/heads):
  config.json, model.safetensors (BF16, as published checkpoints) or shards + index, tokenizer.json,
  tokenizer_config.json, reference.json (input ids) and reference.safetensors (logits [B, S, V], F32).

The forward pass is written here in plain torch ops from the Hugging Face modeling semantics (no transformers, no
tunelab code) and runs in float64 on the BF16-rounded weights. Run once with Debian's torch:
  /usr/bin/python3 scripts/layout-fixtures.py
The tests read the committed outputs; torch is never needed to run them.
"""
import json
import math
import os
import struct

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'layouts')

# ------------------------------------------------------------------ tokenizer (byte-level BPE, trained here)

def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHARS = bytes_to_unicode()
CORPUS = (
    'the cat sat on the mat. the dog ate the food of the cat. '
    'they said: we will see the sea in 2024, then 31 more days! '
    'a quick brown fox jumps over the lazy dog; the end of the story. '
) * 3


def train_bpe(text, n_merges):
    words = {}
    for i, w in enumerate(text.split(' ')):
        if not w:
            continue
        s = (' ' if i else '') + w
        key = tuple(BYTE_CHARS[b] for b in s.encode('utf-8'))
        words[key] = words.get(key, 0) + 1
    merges = []
    for _ in range(n_merges):
        pairs = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        merges.append(best)
        nw = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            nw[tuple(out)] = nw.get(tuple(out), 0) + c
        words = nw
    return merges


MERGES = train_bpe(CORPUS, 40)
assert len(MERGES) == 40  # special tokens start at id 296 (the configs name them)
BASE_VOCAB = [BYTE_CHARS[b] for b in range(256)] + [a + b for a, b in MERGES]

LLAMA3_SPLIT = (
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
)
QWEN2_SPLIT = (
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
)
BYTE_LEVEL = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
BYTE_LEVEL_NO_REGEX = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': False}
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def tokenizer_json(kind, specials):
    vocab = {t: i for i, t in enumerate(BASE_VOCAB)}
    added = []
    for s in specials:
        vocab_id = len(vocab) + len(added)
        added.append({'id': vocab_id, 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                      'normalized': False, 'special': True})
    merges = [f'{a} {b}' for a, b in MERGES]
    normalizer = None
    post = {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True}
    ignore_merges = False
    if kind == 'smollm':
        pre = {'type': 'Sequence', 'pretokenizers': [{'type': 'Digits', 'individual_digits': True}, BYTE_LEVEL]}
    elif kind == 'llama3':
        pre = {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': LLAMA3_SPLIT}, 'behavior': 'Isolated', 'invert': False}, BYTE_LEVEL_NO_REGEX]}
        bos = specials[0]
        post = {'type': 'Sequence', 'processors': [
            {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
            {'type': 'TemplateProcessing',
             'single': [{'SpecialToken': {'id': bos, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
             'pair': [{'SpecialToken': {'id': bos, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                      {'SpecialToken': {'id': bos, 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
             'special_tokens': {bos: {'id': bos, 'ids': [added[0]['id']], 'tokens': [bos]}}}]}
        ignore_merges = True
    elif kind == 'qwen':
        normalizer = {'type': 'NFC'}
        pre = {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': QWEN2_SPLIT}, 'behavior': 'Isolated', 'invert': False}, BYTE_LEVEL_NO_REGEX]}
        post = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': False}
    else:
        raise ValueError(kind)
    return {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added, 'normalizer': normalizer,
        'pre_tokenizer': pre, 'post_processor': post,
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': ignore_merges,
                  'vocab': vocab,
                  # newer tokenizers (Qwen3's) write merges as pairs
                  'merges': [[a, b] for a, b in MERGES] if kind == 'qwen' else merges},
    }


# ------------------------------------------------------------------ layouts

LAYOUTS = {
    'llama': dict(
        config=dict(architectures=['LlamaForCausalLM'], model_type='llama', hidden_size=32, intermediate_size=48,
                    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5,
                    rope_theta=100000.0, max_position_embeddings=64, vocab_size=320, tie_word_embeddings=True,
                    hidden_act='silu', attention_bias=False, mlp_bias=False, rope_scaling=None,
                    bos_token_id=296, eos_token_id=298, torch_dtype='bfloat16'),
        tok='smollm', specials=['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
        tc=dict(bos_token='<|endoftext|>', eos_token='<|im_end|>', pad_token='<|im_end|>', unk_token='<|endoftext|>',
                chat_template=CHATML, tokenizer_class='GPT2Tokenizer', model_max_length=64),
        shards=1),
    'llama3': dict(
        config=dict(architectures=['LlamaForCausalLM'], model_type='llama', hidden_size=32, intermediate_size=64,
                    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, head_dim=8, rms_norm_eps=1e-5,
                    rope_theta=500000.0, max_position_embeddings=128, vocab_size=320, tie_word_embeddings=False,
                    hidden_act='silu', attention_bias=False, mlp_bias=False, pretraining_tp=1,
                    rope_scaling=dict(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                      original_max_position_embeddings=16),
                    bos_token_id=296, eos_token_id=[297, 300], torch_dtype='bfloat16'),
        tok='llama3', specials=['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
        tc=dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>', chat_template=LLAMA3_TEMPLATE,
                tokenizer_class='PreTrainedTokenizerFast', model_max_length=128),
        shards=1),
    'qwen2': dict(
        config=dict(architectures=['Qwen2ForCausalLM'], model_type='qwen2', hidden_size=32, intermediate_size=48,
                    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6,
                    rope_theta=1000000.0, max_position_embeddings=64, max_window_layers=2, sliding_window=64,
                    use_sliding_window=False, vocab_size=320, tie_word_embeddings=True, hidden_act='silu',
                    attention_dropout=0.0, rope_scaling=None, bos_token_id=296, eos_token_id=298,
                    torch_dtype='bfloat16', use_cache=True),
        tok='qwen', specials=['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
        tc=dict(bos_token=None, eos_token='<|im_end|>', pad_token='<|endoftext|>', chat_template=CHATML,
                tokenizer_class='Qwen2Tokenizer', model_max_length=64, errors='replace'),
        shards=2),
    'qwen3': dict(
        config=dict(architectures=['Qwen3ForCausalLM'], model_type='qwen3', hidden_size=32, intermediate_size=48,
                    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6,
                    rope_theta=1000000.0, max_position_embeddings=64, max_window_layers=2, sliding_window=None,
                    use_sliding_window=False, vocab_size=320, tie_word_embeddings=True, hidden_act='silu',
                    attention_bias=False, attention_dropout=0.0, rope_scaling=None, bos_token_id=296, eos_token_id=298,
                    torch_dtype='bfloat16', use_cache=True),
        tok='qwen', specials=['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
        tc=dict(bos_token=None, eos_token='<|im_end|>', pad_token='<|endoftext|>', chat_template=CHATML,
                tokenizer_class='Qwen2Tokenizer', model_max_length=64, errors='replace'),
        shards=1),
}


def head_dim(c):
    return c.get('head_dim') or c['hidden_size'] // c['num_attention_heads']


def param_shapes(c):
    D, I, V = c['hidden_size'], c['intermediate_size'], c['vocab_size']
    H, KV, hd = c['num_attention_heads'], c['num_key_value_heads'], head_dim(c)
    out = [('model.embed_tokens.weight', [V, D])]
    for l in range(c['num_hidden_layers']):
        p = f'model.layers.{l}'
        out += [(f'{p}.input_layernorm.weight', [D]), (f'{p}.self_attn.q_proj.weight', [H * hd, D]),
                (f'{p}.self_attn.k_proj.weight', [KV * hd, D]), (f'{p}.self_attn.v_proj.weight', [KV * hd, D]),
                (f'{p}.self_attn.o_proj.weight', [D, H * hd])]
        if c['model_type'] == 'qwen2':
            out += [(f'{p}.self_attn.q_proj.bias', [H * hd]), (f'{p}.self_attn.k_proj.bias', [KV * hd]),
                    (f'{p}.self_attn.v_proj.bias', [KV * hd])]
        if c['model_type'] == 'qwen3':
            out += [(f'{p}.self_attn.q_norm.weight', [hd]), (f'{p}.self_attn.k_norm.weight', [hd])]
        out += [(f'{p}.post_attention_layernorm.weight', [D]), (f'{p}.mlp.gate_proj.weight', [I, D]),
                (f'{p}.mlp.up_proj.weight', [I, D]), (f'{p}.mlp.down_proj.weight', [D, I])]
    out.append(('model.norm.weight', [D]))
    if not c['tie_word_embeddings']:
        out.append(('lm_head.weight', [V, D]))
    return out


def random_weights(c, seed):
    g = torch.Generator().manual_seed(seed)
    w = {}
    for name, shape in param_shapes(c):
        if name.endswith('norm.weight'):
            t = 1 + 0.3 * torch.randn(shape, generator=g)
        elif name.endswith('.bias'):
            t = 0.5 * torch.randn(shape, generator=g)
        elif name == 'model.embed_tokens.weight':
            t = torch.randn(shape, generator=g)
        else:
            t = torch.randn(shape, generator=g) / math.sqrt(shape[1])
        # stored as BF16 like published checkpoints; the reference runs on the rounded values
        w[name] = t.to(torch.bfloat16)
    return w


# ------------------------------------------------------------------ the forward pass (HF semantics, plain torch)

def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def inv_freq(c):
    hd = head_dim(c)
    inv = 1.0 / (c['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    rs = c.get('rope_scaling')
    if rs and (rs.get('rope_type') or rs.get('type')) == 'llama3':
        factor, lo, hi = rs['factor'], rs['low_freq_factor'], rs['high_freq_factor']
        old = rs['original_max_position_embeddings']
        lo_wave, hi_wave = old / lo, old / hi
        out = []
        for f in inv.tolist():
            wave = 2 * math.pi / f
            if wave < hi_wave:
                out.append(f)
            elif wave > lo_wave:
                out.append(f / factor)
            else:
                s = (old / wave - lo) / (hi - lo)
                out.append((1 - s) * f / factor + s * f)
        inv = torch.tensor(out, dtype=torch.float64)
    elif rs:
        raise ValueError(rs)
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def forward(c, w, ids):
    W = {k: v.to(torch.float64) for k, v in w.items()}
    B, S = ids.shape
    H, KV, hd, eps = c['num_attention_heads'], c['num_key_value_heads'], head_dim(c), c['rms_norm_eps']
    x = W['model.embed_tokens.weight'][ids]
    freqs = torch.outer(torch.arange(S, dtype=torch.float64), inv_freq(c))
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, S, hd]
    causal = torch.full((S, S), float('-inf'), dtype=torch.float64).triu(1)
    for l in range(c['num_hidden_layers']):
        p = f'model.layers.{l}'

        def lin(t, name):
            y = t @ W[f'{p}.{name}.weight'].T
            b = W.get(f'{p}.{name}.bias')
            return y + b if b is not None else y

        h = rms_norm(x, W[f'{p}.input_layernorm.weight'], eps)
        q = lin(h, 'self_attn.q_proj').view(B, S, H, hd)
        k = lin(h, 'self_attn.k_proj').view(B, S, KV, hd)
        v = lin(h, 'self_attn.v_proj').view(B, S, KV, hd)
        if c['model_type'] == 'qwen3':
            q = rms_norm(q, W[f'{p}.self_attn.q_norm.weight'], eps)
            k = rms_norm(k, W[f'{p}.self_attn.k_norm.weight'], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, heads, S, hd]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + causal, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, S, H * hd)
        x = x + lin(o, 'self_attn.o_proj')
        h2 = rms_norm(x, W[f'{p}.post_attention_layernorm.weight'], eps)
        x = x + lin(torch.nn.functional.silu(lin(h2, 'mlp.gate_proj')) * lin(h2, 'mlp.up_proj'), 'mlp.down_proj')
    x = rms_norm(x, W['model.norm.weight'], eps)
    head = W['model.embed_tokens.weight'] if c['tie_word_embeddings'] else W['lm_head.weight']
    return x @ head.T


# ------------------------------------------------------------------ safetensors (written by hand: header + raw bytes)

def safetensors_bytes(tensors):
    header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if t.dtype == torch.bfloat16:
            data, dt = t.view(torch.int16).numpy().tobytes(), 'BF16'
        elif t.dtype == torch.float32:
            data, dt = t.numpy().astype('<f4').tobytes(), 'F32'
        elif t.dtype == torch.int64:
            data, dt = t.numpy().astype('<i8').tobytes(), 'I64'
        else:
            raise ValueError(t.dtype)
        header[name] = {'dtype': dt, 'shape': list(t.shape), 'data_offsets': [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write('\n')


def main():
    torch.manual_seed(0)
    for seed, (name, spec) in enumerate(LAYOUTS.items()):
        c = spec['config']
        d = os.path.join(ROOT, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        w = random_weights(c, 1000 + seed)
        write_json(os.path.join(d, 'config.json'), c)
        tj = tokenizer_json(spec['tok'], spec['specials'])
        with open(os.path.join(d, 'tokenizer.json'), 'w') as f:
            json.dump(tj, f, ensure_ascii=False)
        write_json(os.path.join(d, 'tokenizer_config.json'), spec['tc'])
        if spec['shards'] == 1:
            with open(os.path.join(d, 'model.safetensors'), 'wb') as f:
                f.write(safetensors_bytes(w))
        else:
            names = sorted(w)
            n = spec['shards']
            per = math.ceil(len(names) / n)
            weight_map, total = {}, 0
            for i in range(n):
                fname = f'model-{i + 1:05d}-of-{n:05d}.safetensors'
                part = {k: w[k] for k in names[i * per:(i + 1) * per]}
                with open(os.path.join(d, fname), 'wb') as f:
                    f.write(safetensors_bytes(part))
                for k, t in part.items():
                    weight_map[k] = fname
                    total += t.numel() * 2
            write_json(os.path.join(d, 'model.safetensors.index.json'), {'metadata': {'total_size': total}, 'weight_map': weight_map})
        g = torch.Generator().manual_seed(77 + seed)
        ids = torch.randint(0, len(BASE_VOCAB) + len(spec['specials']), (2, 12), generator=g)
        logits = forward(c, w, ids)
        with open(os.path.join(d, 'reference.safetensors'), 'wb') as f:
            f.write(safetensors_bytes({'logits': logits.to(torch.float32)}))
        write_json(os.path.join(d, 'reference.json'), {
            'input_ids': ids.tolist(),
            'logits_shape': list(logits.shape),
            'max_abs_logit': float(logits.abs().max()),
            'by': f'scripts/layout-fixtures.py, torch {torch.__version__}, float64 forward on the BF16 weights',
        })
        print(f'{name}: {len(w)} tensors, logits {list(logits.shape)}, max |logit| {float(logits.abs().max()):.3f}')


if __name__ == '__main__':
    main()
