/** Byte-level tokenizer: ids 0..255 are bytes, then special tokens. For tests and tiny models. */
import type { Tokenizer } from './types.ts';
export class ByteTokenizer implements Tokenizer {
  readonly specialTokens: string[];
  private special = new Map<string, number>();
  constructor(specials: string[] = ['<|bos|>', '<|eos|>', '<|pad|>']) {
    this.specialTokens = specials.slice();
    specials.forEach((s, i) => this.special.set(s, 256 + i));
  }
  get vocabSize(): number {
    return 256 + this.specialTokens.length;
  }
  tokenId(token: string): number | undefined {
    return this.special.get(token);
  }
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const out: number[] = [];
    if (options.addSpecialTokens && this.special.has('<|bos|>')) out.push(this.special.get('<|bos|>')!);
    // special tokens written in the text are recognised
    const names = [...this.special.keys()].sort((a, b) => b.length - a.length);
    let i = 0;
    let plain = '';
    const flush = () => {
      if (plain) {
        out.push(...new TextEncoder().encode(plain));
        plain = '';
      }
    };
    while (i < text.length) {
      const hit = names.find((n) => text.startsWith(n, i));
      if (hit) {
        flush();
        out.push(this.special.get(hit)!);
        i += hit.length;
      } else {
        plain += text[i];
        i++;
      }
    }
    flush();
    return out;
  }
  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const bytes: number[] = [];
    let s = '';
    const flush = () => {
      if (bytes.length) {
        s += new TextDecoder().decode(Uint8Array.from(bytes));
        bytes.length = 0;
      }
    };
    for (const id of ids) {
      if (id < 256) bytes.push(id);
      else {
        flush();
        if (!options.skipSpecialTokens) s += this.specialTokens[id - 256] ?? '';
      }
    }
    flush();
    return s;
  }
  toJSON(): unknown {
    return {
      version: '1.0',
      model: { type: 'tunelab-bytes' },
      added_tokens: this.specialTokens.map((content, i) => ({ id: 256 + i, content, special: true })),
    };
  }
}
