import { describe, expect, it } from 'vitest';
import { runSample } from '../support/run-sample.js';

describe('sample 04-redis-replicas, built and run as a user runs it', () => {
  it('starts redis-server and two replicas sharing a limit of 3: three requests are admitted in all', async () => {
    const output = await runSample('sample/04-redis-replicas/main.js');
    const statuses = [...output.matchAll(/replica [AB]: (\d{3})/g)].map((match) => match[1]);
    expect(statuses).toEqual(['200', '200', '200', '429', '429', '429']);
  });
});
