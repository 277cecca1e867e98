import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/adapters/http/metrics.ts';
import { DEFAULT_HTTP_LIMITS, startHttpServer } from '../../src/adapters/http/server.ts';
import { createLogger } from '../../src/adapters/logger.ts';

// Finding 10 (issue 12), as the attack: many slow sockets that never finish their headers, more than the
// connection cap; the public port must shed them and keep serving. And /metrics is not public.

let server: Server;
let port: number;
const TOKEN = 'metrics_token_0123456789';

beforeAll(async () => {
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ level: 'silent' }),
    metrics: new Metrics(),
    metricsToken: TOKEN,
    health: async () => ({ ok: true }),
    webhook: { path: '/hook', secret: 'secret_secret_secret', handle: async () => 'ok' as const },
    // Short timeouts so the test does not wait a minute; production uses DEFAULT_HTTP_LIMITS.
    limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 20, checkIntervalMs: 100 },
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

function slowSocket(): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      // Headers that never end (slowloris).
      socket.write('POST /hook HTTP/1.1\r\nHost: bot\r\nX-Slow: 1');
      resolve({ socket, closed });
    });
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.resume(); // read the server's 408 and FIN, so 'close' follows the server's close
  });
}

describe('public HTTP port under slow sockets', () => {
  it('production defaults are short and capped', () => {
    expect(DEFAULT_HTTP_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(DEFAULT_HTTP_LIMITS.maxConnections).toBeLessThanOrEqual(500);
  });

  it('sheds 60 slow sockets (cap 20) and still answers /healthz', async () => {
    const sockets = await Promise.all(Array.from({ length: 60 }, () => slowSocket()));
    // Every one of them is closed by the server: those over the cap at once, the rest at the headers
    // timeout. (Before: Node's 60 s header timeout and no cap kept them all open.)
    await Promise.all(sockets.map((s) => s.closed));
    expect(sockets.every((s) => s.socket.destroyed)).toBe(true);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  }, 30_000);

  it('/metrics needs the bearer token', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
  });
});
