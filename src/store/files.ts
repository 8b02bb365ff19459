// Uploaded files (the server's): metadata here, content at `path`.
import { randomBytes } from 'node:crypto';
import { id, num, StoreError, type Ctx, type Row } from './db.ts';
import type { FileInput, FileRow } from './types.ts';

export interface FilesTable {
  createFile(file: FileInput): FileRow;
  getFile(id: string): FileRow | undefined;
  /** oldest first */
  listFiles(opts?: { purpose?: string }): FileRow[];
  deleteFile(id: string): boolean;
}

export function filesTable(ctx: Ctx): FilesTable {
  const { db } = ctx;
  const q = {
    ins: db.prepare('INSERT INTO files (id, filename, purpose, bytes, path, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    get: db.prepare('SELECT * FROM files WHERE id = ?'),
    list: db.prepare('SELECT * FROM files ORDER BY created_at, rowid'),
    listPurpose: db.prepare('SELECT * FROM files WHERE purpose = ? ORDER BY created_at, rowid'),
    del: db.prepare('DELETE FROM files WHERE id = ?'),
  };
  const toRow = (r: Row): FileRow => ({
    id: String(r.id),
    filename: String(r.filename),
    purpose: String(r.purpose),
    bytes: Number(r.bytes),
    path: String(r.path),
    createdAt: Number(r.created_at),
  });
  return {
    createFile(file) {
      if (!file || typeof file !== 'object') throw new StoreError('createFile', 'expected an object');
      const fid = file.id == null ? `file-${randomBytes(12).toString('hex')}` : id('createFile.id', file.id);
      const row = [
        fid,
        id('createFile.filename', file.filename),
        id('createFile.purpose', file.purpose),
        num('createFile.bytes', file.bytes, { int: true, min: 0 }),
        id('createFile.path', file.path),
        Date.now(),
      ] as const;
      db.transaction(() => {
        if (q.get.get(fid)) throw new StoreError('createFile.id', `a file with id "${fid}" exists`);
        q.ins.run(...row);
      })();
      return toRow(q.get.get(fid) as Row);
    },
    getFile(fid) {
      const r = q.get.get(fid) as Row | undefined;
      return r ? toRow(r) : undefined;
    },
    listFiles(o = {}) {
      return ((o.purpose != null ? q.listPurpose.all(o.purpose) : q.list.all()) as Row[]).map(toRow);
    },
    deleteFile(fid) {
      return q.del.run(fid).changes === 1;
    },
  };
}
