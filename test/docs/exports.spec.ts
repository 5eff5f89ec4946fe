import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Every runtime export of every entry point (`exports` of package.json) is listed in docs/reference.md, section
 * "Exports", under its entry point, and nothing else is: an accidental export, or a removed one still documented,
 * fails here. Each entry point is imported from its source, as the package map points at its build.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const manifest = JSON.parse(read('package.json')) as { name: string; exports: Record<string, { default?: string }> };
const reference = read('docs/reference.md');

/** `./redis` -> `nest-resilience/redis` and `lib/redis/index.ts`. */
const entryPoints = Object.entries(manifest.exports)
  .filter(([, target]) => typeof target === 'object' && target.default?.startsWith('./dist/lib/'))
  .map(([subpath, target]) => ({
    specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
    source: target.default!.replace('./dist/', '').replace(/\.js$/, '.ts'),
  }));

/** The names written in the table under `### \`<specifier>\`` of the "Exports" section. */
function documented(specifier: string): string[] | undefined {
  const exportsSection = reference.split(/^## Exports$/m)[1]?.split(/^## /m)[0];
  const part = exportsSection?.split(/^### /m).find((chunk) => chunk.startsWith(`\`${specifier}\`\n`));
  if (part === undefined) return undefined;
  const rows = part.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
  return rows.slice(1).flatMap((row) => [...(row.split(' | ')[1] ?? '').matchAll(/`(\w+)`/g)].map((name) => name[1]));
}

describe('docs/reference.md lists every runtime export of every entry point', () => {
  it('finds the entry points in package.json', () => {
    expect(entryPoints.map((entry) => entry.specifier)).toEqual(
      expect.arrayContaining(['nest-resilience', 'nest-resilience/redis', 'nest-resilience/testing']),
    );
  });

  for (const { specifier, source } of entryPoints) {
    it(`${specifier}: the list matches the exports exactly`, async () => {
      const exported = Object.keys((await import(`../../${source}`)) as object).sort();
      const listed = documented(specifier);
      expect(listed, `docs/reference.md, "Exports", has no "### \`${specifier}\`"`).toBeDefined();
      expect(
        exported.filter((name) => !listed!.includes(name)),
        'exported but not listed',
      ).toEqual([]);
      expect(
        listed!.filter((name) => !exported.includes(name)),
        'listed but not exported',
      ).toEqual([]);
      expect(new Set(listed).size, 'listed twice').toBe(listed!.length);
    }, 60_000);
  }
});
