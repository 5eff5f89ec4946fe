import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../lib/index.js';
import { readCodeSurface, type CodeSurface } from './code-surface.js';

/**
 * docs/reference.md claims every decorator and every option with its default. The names come from the code (the
 * runtime exports and the TypeScript types, read with the compiler), so an option added without its line in the
 * reference fails here, naming it.
 */
const reference = readFileSync(new URL('../../docs/reference.md', import.meta.url), 'utf8');

/**
 * The text of the section whose heading is `heading` or names it among others (`## @Priority and @SkipLoadShedding`),
 * up to the next heading of that level or above.
 */
function section(heading: string): string | undefined {
  const lines = reference.split('\n');
  const names = (line: string) => new RegExp(`(^|[^\\w@])${heading}($|[^\\w])`).test(line.replace(/^#+ /, ''));
  const start = lines.findIndex((line) => /^#{2,4} /.test(line) && names(line));
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start])![0].length;
  const end = lines.findIndex((line, index) => index > start && new RegExp(`^#{2,${level}} `).test(line));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** `name` written as code: `name`, `name(...)`, `name: ...`, `.name`, `defaults.name`. */
const mentions = (text: string, name: string) =>
  new RegExp('`(?:[\\w.]*\\.)?' + name + '(?:`|\\(|:|\\.| =)').test(text);

/** Exported functions with a PascalCase name that are not classes: the decorators. */
const decorators = Object.entries(api)
  .filter(([name, value]) => typeof value === 'function' && /^[A-Z]/.test(name))
  .filter(([, value]) => !/^class\b/.test(Function.prototype.toString.call(value)));

let surface: CodeSurface;
beforeAll(() => {
  surface = readCodeSurface();
}, 120_000);

describe('docs/reference.md: every decorator', () => {
  it('finds the decorators among the exports', () => {
    expect(decorators.map(([name]) => name)).toEqual(
      expect.arrayContaining(['Timeout', 'Retry', 'Idempotent', 'Hedge', 'DeadLetter', 'Priority', 'TimeoutSignal']),
    );
  });

  for (const [name, value] of decorators) {
    const alias = (value as { name: string }).name !== name;
    if (alias) {
      it(`names the alias ${name}`, () => expect(reference).toContain(name));
      continue;
    }
    it(`has a section "@${name}" naming each of its options`, () => {
      const text = section(`@${name}`);
      expect(text, `docs/reference.md has no heading "@${name}"`).toBeDefined();
      const missing = surface.decoratorOptions(name).filter((option) => !mentions(text!, option));
      expect(missing, `options of @${name} missing from its section`).toEqual([]);
    });
  }
});

describe('docs/reference.md: every module option, with its default', () => {
  const table = () => {
    const text = section('Module options');
    expect(text, 'docs/reference.md has no heading "Module options"').toBeDefined();
    return text!.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
  };

  it('has a row for every key ResilienceModule.forRoot accepts, each with a default', () => {
    const rows = table();
    const problems: string[] = [];
    for (const key of surface.moduleOptionKeys()) {
      const row = rows.find((line) => mentions(line.split(' | ')[0], key));
      if (!row) problems.push(`${key}: no row`);
      else if (row.split(' | ').at(-1)!.replace(/\|$/, '').trim() === '') problems.push(`${key}: no default`);
    }
    expect(problems).toEqual([]);
  });

  it('names every per-kind key of `defaults`', () => {
    const rows = table().join('\n');
    expect(surface.moduleOptionProperties('defaults').filter((kind) => !mentions(rows, kind))).toEqual([]);
  });
});

describe('docs/reference.md: every option of every exported options type', () => {
  it('mentions each property of each *Options type the package exports', () => {
    const missing: string[] = [];
    for (const [type, properties] of surface.optionTypes()) {
      for (const property of properties) if (!mentions(reference, property)) missing.push(`${type}.${property}`);
    }
    expect(missing, missing.join('\n')).toEqual([]);
  });
});
