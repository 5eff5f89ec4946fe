import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a built sample as a user would (`node dist/sample/...`), importing the package by its name. */
export async function runSample(path: string, timeout = 30_000): Promise<string> {
  expect(existsSync(`${root}/dist/${path}`), 'run `npm run build` first (npm test does)').toBe(true);
  const { stdout } = await promisify(execFile)(process.execPath, [`dist/${path}`], { cwd: root, timeout });
  return stdout;
}
