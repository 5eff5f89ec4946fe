import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run chaos (sample 06), built and run as a user runs it', () => {
  it('drives a bounded load, reports what the policies did and ends with a summary', async () => {
    expect(existsSync(`${root}/dist/sample/07-chaos/main.js`), 'run `npm run build` first (npm test does)').toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, ['dist/sample/07-chaos/main.js'], {
      cwd: root,
      timeout: 30_000,
      env: { ...process.env, NODE_ENV: 'test', REQUESTS: '60', SECONDS: '4', CONCURRENCY: '4' },
    });
    expect(stdout).toMatch(/60 requests at most, 4 s at most/);
    expect(stdout).toMatch(/breaker gateway: closed -> open/);
    expect(stdout).toMatch(/chaos paused through registry\.chaos\.pause\(\)/);
    expect(stdout).toMatch(/summary after [\d.]+ s, \d+ requests/);
    expect(stdout).toMatch(/chaos "gateway": [1-9]\d* faults/);
  }, 40_000);
});
