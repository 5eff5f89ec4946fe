import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CANONICAL_ORDER } from '../../lib/nest/pipeline/canonical-order.js';

/**
 * The canonical order is written out in prose in several places; the code's list is the truth. A written chain is
 * `Idempotent( DeadLetter( ... Bulkhead[adaptive]( chaos( call )))...)`: names with an optional `[note]`, nested
 * around `call`. The vertical diagram of docs/composition.md is one name per line between `caller` and `your method`.
 */
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
/** `totalTimeout`, `total timeout` and `Timeout total` are one stage; so are `DeadLetter` and `dead letter`. */
const normalize = (name: string) =>
  name
    .replace(/\[[^\]]*\]/g, '')
    .replace(/^Timeout total$/, 'total timeout')
    .replace(/\s+/g, '')
    .toLowerCase();
const codeOrder = CANONICAL_ORDER.map((stage) => normalize(stage.name));

/** Every chain written in `text`: the names of each `A( B( ... call )...)`, outermost first. */
function chains(text: string): string[][] {
  const found: string[][] = [];
  for (const match of text.matchAll(/(?:[A-Za-z]+(?:\[[^\]]*\])?\(\s*)+call\s*\)+/g)) {
    found.push([...match[0].matchAll(/([A-Za-z]+)(?:\[[^\]]*\])?\(/g)].map((name) => normalize(name[1])));
  }
  return found;
}

/** True when `names` appear in `order` in the same relative order (a chain may leave stages out). */
const isSubsequence = (names: readonly string[], order: readonly string[]) => {
  let at = 0;
  for (const name of names) {
    at = order.indexOf(name, at);
    if (at < 0) return false;
    at++;
  }
  return true;
};

describe('the canonical order written in the docs', () => {
  it('the code lists every stage once', () => {
    expect(new Set(codeOrder).size).toBe(codeOrder.length);
    expect(codeOrder).toContain('hedge');
  });

  for (const path of ['README.md', 'docs/composition.md', 'lib/README.md']) {
    it(`${path} writes the whole chain exactly as the code orders it`, () => {
      // A chain that starts at the outermost stage claims to be the whole order.
      const whole = chains(read(path)).filter((chain) => chain[0] === codeOrder[0]);
      expect(whole.length, `${path} writes no chain from ${codeOrder[0]} to call`).toBeGreaterThan(0);
      for (const chain of whole) expect(chain).toEqual(codeOrder);
    });
  }

  it('docs/composition.md draws the stages top to bottom in the code order', () => {
    const diagram = /```\n\s*caller\n([\s\S]*?)your method\n```/.exec(read('docs/composition.md'));
    expect(diagram, 'the diagram from `caller` to `your method`').not.toBeNull();
    const drawn = [...diagram![1].matchAll(/^\s*([A-Za-z][A-Za-z ]*?) ─/gm)].map((line) => normalize(line[1]));
    expect(drawn).toEqual(codeOrder);
  });

  it('every partial chain in README.md, docs/ and lib/README.md keeps the code order', () => {
    const files = ['README.md', 'lib/README.md', 'CONTRIBUTING.md', ...docsPages()];
    for (const path of files) {
      for (const chain of chains(read(path))) {
        expect(isSubsequence(chain, codeOrder), `${path}: ${chain.join(' > ')}`).toBe(true);
      }
    }
  });
});

function docsPages(): string[] {
  return readdirSync(new URL('docs/', root))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`);
}
