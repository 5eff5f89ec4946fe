import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readExportedTypes } from './code-surface.js';

/**
 * Every export of every entry point (`exports` of package.json) is listed in docs/reference.md, section "Exports",
 * under its entry point, and nothing else is: the runtime values in its table, the types in its "Types" list. An
 * accidental export, or a removed one still documented, fails here. Each entry point is imported from its source, as
 * the package map points at its build; its types are read with the compiler.
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

/** The part under `### \`<specifier>\`` of the "Exports" section. */
function sectionOf(specifier: string): string | undefined {
  const exportsSection = reference.split(/^## Exports$/m)[1]?.split(/^## /m)[0];
  return exportsSection?.split(/^### /m).find((chunk) => chunk.startsWith(`\`${specifier}\`\n`));
}

/** The names written in the table of an entry point's part. */
function documented(specifier: string): string[] | undefined {
  const part = sectionOf(specifier);
  if (part === undefined) return undefined;
  const rows = part.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
  return rows.slice(1).flatMap((row) => [...(row.split(' | ')[1] ?? '').matchAll(/`(\w+)`/g)].map((name) => name[1]));
}

/** The names written in the "Types" list of an entry point's part (a plain name in backticks: no `Of<'x'>`). */
function documentedTypes(specifier: string): string[] {
  const list = sectionOf(specifier)?.split(/^Types \(`import type`\):/m)[1] ?? '';
  return [...list.matchAll(/`(\w+)`/g)].map((name) => name[1]);
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

  it('lists every type each entry point exports, and only those', () => {
    const types = readExportedTypes(entryPoints.map((entry) => entry.source));
    for (const { specifier, source } of entryPoints) {
      const exported = types.get(source)!;
      const listed = documentedTypes(specifier);
      expect(
        exported.filter((name) => !listed.includes(name)),
        `${specifier}: types exported but not listed`,
      ).toEqual([]);
      expect(
        listed.filter((name) => !exported.includes(name)),
        `${specifier}: types listed but not exported`,
      ).toEqual([]);
      expect(new Set(listed).size, `${specifier}: a type listed twice`).toBe(listed.length);
    }
  }, 60_000);
});
