/**
 * Holds the bytes allocated per call of each hot case to its budget (test/alloc/budgets.json). A change that adds an
 * allocation on a happy path fails here with the case and the figure; see "The allocation guard" in bench/README.md
 * for how to read it and how to move a budget honestly.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// The flags a measuring process runs with: the harness's own, so this test measures as `npm run bench:alloc` does.
import { ALLOCATION_NODE_FLAGS } from '../../bench/support/allocation.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = `${root}dist/bench/alloc.js`;
const budgets = JSON.parse(readFileSync(new URL('./budgets.json', import.meta.url), 'utf8')) as {
  bytesPerCall: Record<string, number>;
};

function run(args: string[]): unknown {
  return JSON.parse(execFileSync(process.execPath, [...ALLOCATION_NODE_FLAGS, entry, ...args], { encoding: 'utf8' }));
}

describe('bytes allocated per call stay within their budgets', () => {
  it('has a budget for every case the harness measures, and no budget without a case', () => {
    expect(Object.keys(budgets.bytesPerCall).sort()).toEqual((run(['--list']) as string[]).sort());
  });

  it.each(Object.entries(budgets.bytesPerCall))('%s: at most %i bytes per call', (id, budget) => {
    const { bytesPerCall } = run([id]) as { bytesPerCall: number };
    // The message names the case and the figure, so a failing CI log says what grew and by how much.
    expect(
      bytesPerCall,
      `${id} allocated ${bytesPerCall.toFixed(0)} bytes per call (budget ${budget})`,
    ).toBeLessThanOrEqual(budget);
  });
});
