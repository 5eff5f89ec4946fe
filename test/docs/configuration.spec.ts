import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCodeSurface, type CodeSurface } from './code-surface.js';

/**
 * docs/configuration.md lists every module option with its default and what bootstrap checks of it. The keys come
 * from the code (the type of `ResilienceModule.forRoot()`'s options, read with the compiler), so an option added
 * without its row fails here, and so does a row left behind for an option that is gone.
 */
const configuration = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** The rows of the first table of the "## Module options" section: `[option, default, checked]`. */
function moduleOptionRows(): string[][] {
  const section = configuration.split(/^## Module options/m)[1]?.split(/^#{2,3} /m)[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .slice(1)
    .map((line) =>
      line
        .replace(/^\| | \|$/g, '')
        .split(' | ')
        .map((cell) => cell.trim()),
    );
}

let surface: CodeSurface;
beforeAll(() => {
  surface = readCodeSurface();
}, 120_000);

describe('docs/configuration.md: every module option, its default and its checks', () => {
  it('has one row per key ResilienceModule.forRoot accepts, and no other', () => {
    const listed = moduleOptionRows().map(([option]) => /^`(\w+)`$/.exec(option)?.[1] ?? option);
    const keys = surface.moduleOptionKeys();
    expect(keys.length).toBeGreaterThanOrEqual(17);
    expect(
      keys.filter((key) => !listed.includes(key)),
      'module options with no row',
    ).toEqual([]);
    expect(
      listed.filter((name) => !keys.includes(name)),
      'rows for options that do not exist',
    ).toEqual([]);
    expect(new Set(listed).size, 'a row listed twice').toBe(listed.length);
  });

  it('gives each row a default and what is checked', () => {
    const incomplete = moduleOptionRows()
      .filter((cells) => cells.length !== 3 || cells.some((cell) => cell === ''))
      .map(([option]) => option);
    expect(incomplete).toEqual([]);
  });

  it('names the rule between retry options that the validator applies', () => {
    expect(configuration).toContain('`initialDelay <= maxDelay`');
  });
});
