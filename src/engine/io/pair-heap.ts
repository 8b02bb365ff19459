/** A binary min-heap of (a, b) number pairs, ordered by a then b. BPE training pushes (-count, key), encoding (rank, position). */
export class PairHeap {
  private a: number[] = [];
  private b: number[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(i: number, j: number): boolean {
    return this.a[i] < this.a[j] || (this.a[i] === this.a[j] && this.b[i] < this.b[j]);
  }
  private swap(i: number, j: number): void {
    const x = this.a[i];
    this.a[i] = this.a[j];
    this.a[j] = x;
    const y = this.b[i];
    this.b[i] = this.b[j];
    this.b[j] = y;
  }
  push(a: number, b: number): void {
    this.a.push(a);
    this.b.push(b);
    let i = this.a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.a[0], this.b[0]];
    const la = this.a.pop()!,
      lb = this.b.pop()!;
    if (this.a.length) {
      this.a[0] = la;
      this.b[0] = lb;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < this.a.length && this.less(l, m)) m = l;
        if (r < this.a.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
