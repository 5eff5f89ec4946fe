/**
 * Cost as the work grows, in this (fresh) process, run with --expose-gc by `bench/overhead.ts`:
 *   node --expose-gc dist/bench/scaling.js breakers <count>   -> ns per call spread over <count> named breakers, bytes
 * per idle breaker
 *   node --expose-gc dist/bench/scaling.js keys <count> [maxKeys] -> ns per check over <count> rate-limit keys, bytes
 * held
 * Prints one JSON object.
 */
import { MemoryRateLimitStore, ResilienceEvents, ResilienceRegistry } from 'nest-resilience';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { CircuitBreakerPolicy } from '../../lib/core/circuit-breaker/circuit-breaker.policy.js';
import { createResilientMethod } from '../../lib/core/pipeline/resilient-method.js';
import { smoke } from './smoke.js';

const [what, countText, maxKeysText] = process.argv.slice(2);
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** Bytes held on the heap and in array buffers, after a full collection. */
function heldBytes(): number {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

async function breakers(): Promise<object> {
  const registry = new ResilienceRegistry(new ResilienceEvents());
  const before = heldBytes();
  const circuits = Array.from({ length: count }, (_, i) =>
    registry.circuitBreakerFor(`breaker-${i}`, DEFAULT_CIRCUIT_BREAKER_OPTIONS),
  );
  const bytesPerBreaker = (heldBytes() - before) / count;
  const target = { className: 'Bench', methodName: 'call' };
  const resolved = async () => 1;
  const calls = circuits.map((circuit) =>
    createResilientMethod(resolved, target, [new CircuitBreakerPolicy(circuit)], 'promise'),
  );
  const iterations = smoke ? 2_000 : 300_000;
  const run = async () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await calls[i % count]();
    return Number(process.hrtime.bigint() - started) / iterations;
  };
  await run(); // warm-up
  const samples = [await run(), await run(), await run()].sort((a, b) => a - b);
  return { nsPerCall: samples[1], bytesPerBreaker };
}

function keys(): object {
  const maxKeys = maxKeysText ? Number(maxKeysText) : undefined;
  const rule = { capacity: 100, refillPerMs: 100 / 60_000 };
  const names = Array.from({ length: count }, (_, i) => `ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const before = heldBytes();
  const store = new MemoryRateLimitStore({ maxKeys });
  const started = process.hrtime.bigint();
  const iterations = smoke ? count : Math.max(count, 1_000_000);
  for (let i = 0; i < iterations; i++) store.consume(names[i % names.length], rule, 1, 0);
  const nsPerCall = Number(process.hrtime.bigint() - started) / iterations;
  const bytesHeld = heldBytes() - before;
  // `names` and `store` are used after the measurement, so neither is collected before it.
  return { nsPerCall, bytesHeld, keysHeld: store.size, keysOffered: names.length };
}

const result = what === 'breakers' ? await breakers() : keys();
process.stdout.write(JSON.stringify(result));
