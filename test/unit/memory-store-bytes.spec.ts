import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../lib/index.js';

/** A full garbage collection, available without starting Node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function heapAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const rule = { capacity: 5, refillPerMs: 5 / 60_000 };
const MB = 1024 * 1024;

describe('MemoryRateLimitStore memory', () => {
  it('stays bounded with 1M distinct keys of 1 KB (long keys are kept as digests)', () => {
    const store = new MemoryRateLimitStore();
    // Each key a flat string of its own, as a header value is (a template literal would share one padding string).
    const bytes = Buffer.alloc(1024, 'k');
    const before = heapAfterGc();
    for (let i = 0; i < 1_000_000; i++) {
      bytes.write(i.toString(36).padStart(8, '0'), 0, 'latin1');
      store.consume(bytes.toString('latin1'), rule, 1, 0);
    }
    const grown = heapAfterGc() - before;
    expect(store.size).toBe(100_000); // maxKeys
    // 100,000 buckets of 1 KB keys would hold over 100 MB; as digests they take about a fifth of that.
    expect(grown).toBeLessThan(40 * MB);
  }, 30_000);

  it('keeps two long keys apart when they differ only at the end', () => {
    const store = new MemoryRateLimitStore({}, () => 0);
    const prefix = 'api-key:'.padEnd(5000, 'x');
    expect(store.consume(`${prefix}a`, { capacity: 1, refillPerMs: 1e-9 }, 1, 0).allowed).toBe(true);
    expect(store.consume(`${prefix}a`, { capacity: 1, refillPerMs: 1e-9 }, 1, 0).allowed).toBe(false);
    expect(store.consume(`${prefix}b`, { capacity: 1, refillPerMs: 1e-9 }, 1, 0).allowed).toBe(true);
  });

  it('keeps a short key as it is, distinct from any digest', () => {
    const store = new MemoryRateLimitStore({ maxKeyLength: 64 }, () => 0);
    const once = { capacity: 1, refillPerMs: 1e-9 };
    expect(store.consume('x'.repeat(64), once, 1, 0).allowed).toBe(true);
    expect(store.consume('x'.repeat(65), once, 1, 0).allowed).toBe(true);
    expect(store.consume('x'.repeat(65), once, 1, 0).allowed).toBe(false);
    expect(store.size).toBe(2);
  });
});
