import { describe, expect, it } from 'vitest';
import { runSample } from '../support/run-sample.js';

describe('sample 09-rabbitmq, built and run as a user runs it (its own rabbitmq-server)', () => {
  it('handles each order once, dead-letters the poison one, and drains the outbox after a broker restart', async () => {
    const output = await runSample('sample/09-rabbitmq/main.js', 240_000);
    const handled = [...output.matchAll(/^order (\d+) handled$/gm)].map((match) => Number(match[1]));
    expect(handled.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(output).toContain('order 3: delivery 1 failed'); // redelivered through the delay queue, then handled
    expect(output.match(/^order 6: delivery \d failed$/gm)).toHaveLength(3);
    expect(output).toMatch(/dead letter: .*"id":6.* after 3 deliveries \(unreadable order\)/);
    expect(output).toContain('order 7 published: parked');
    expect(output).toContain('order 8 published: parked');
    expect(output).toContain('outbox depth while the broker is down: 2');
    expect(output).toMatch(/outbox sent order-7\noutbox sent order-8/);
    expect(output).toContain('handled 7 orders once each; order 6 dead-lettered');
  }, 300_000);
});
