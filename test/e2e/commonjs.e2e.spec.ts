import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the built package', () => {
  it('can be required from a CommonJS application, subpath exports included', async () => {
    expect(existsSync(`${root}/dist/lib/index.js`), 'run `npm run build` first (npm test does)').toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, ['test/fixtures/cjs-consumer.cjs'], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({
      retried: 'ok after 3 calls',
      timedOut: true,
      subpaths: ['function', 'function'],
    });
  });

  it('ships source maps that carry their TypeScript sources (lib/*.ts is not published)', () => {
    const map = JSON.parse(readFileSync(`${root}/dist/lib/nest/handlers/resilience.interceptor.js.map`, 'utf8')) as {
      sources: string[];
      sourcesContent?: string[];
    };
    expect(map.sources).toEqual(['../../../../lib/nest/handlers/resilience.interceptor.ts']);
    expect(map.sourcesContent?.[0]).toContain('export class ResilienceInterceptor');
  });
});
