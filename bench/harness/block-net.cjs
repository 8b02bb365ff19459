// Preloaded into the peer harness (NODE_OPTIONS=--require): refuses every socket that is not to a
// loopback address or a Unix socket, and notes each refusal in $BENCH_BLOCKED_LOG. promptfoo sends a
// telemetry request per eval even with telemetry disabled; this keeps the benchmark offline.
'use strict';
const net = require('node:net');
const fs = require('node:fs');

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|::ffff:127(?:\.\d{1,3}){3}|0:0:0:0:0:0:0:1)$/i;
const log = process.env.BENCH_BLOCKED_LOG;

function target(args) {
  let a = args[0];
  if (Array.isArray(a)) a = a[0]; // net.connect passes normalized [options, cb]
  if (a && typeof a === 'object') {
    if (a.path) return { path: String(a.path) };
    return { host: a.host === undefined || a.host === null ? 'localhost' : String(a.host), port: a.port };
  }
  if (typeof a === 'string' && !/^\d+$/.test(a)) return { path: a };
  return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: a };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const t = target(args);
  if (t.path !== undefined || LOOPBACK.test(t.host.replace(/^\[|\]$/g, ''))) return connect.apply(this, args);
  if (log) {
    try {
      fs.appendFileSync(log, `${process.pid} ${t.host}:${t.port}\n`);
    } catch {}
  }
  const err = Object.assign(new Error(`bench: outside connection to ${t.host}:${t.port} refused`), { code: 'ECONNREFUSED' });
  process.nextTick(() => this.destroy(err));
  return this;
};
