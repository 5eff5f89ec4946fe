import { describe, expect, it } from 'vitest';
import { HttpUrls } from '../../lib/http/http-url.js';

/** The client's `baseUrl` as its options normalise it (`href`, no trailing `/`). */
const normalised = (base: string) => new URL(base).href.replace(/\/+$/, '');

/** What the URL parser makes of `path` with the client's base: the reference the joined strings must equal. */
function parsed(base: string, path: string): URL {
  return /^[a-z][a-z\d+\-.]*:/i.test(path) ? new URL(path) : new URL(`${base}/${path.replace(/^\/+/, '')}`);
}

const BASES = ['http://127.0.0.1:8080', 'https://api.example.com/v1/', 'HTTP://Example.COM:80/api'];
const PATHS = [
  '/charges/1',
  'charges/1',
  '',
  '/',
  '//twice',
  'a//b/',
  "/a-b_c.d~e!f$g&h'i(j)k*l+m,n;o=p:q@r",
  '/a/./b',
  '/a/../b',
  '..',
  '/.hidden/..x/x..',
  '.',
  '/./',
  '/a/.',
  '/a/..',
  '/...',
  '/a/.../b',
  '///..',
  '/x/.y/z.',
  '/a b',
  '/a%2e%2e/b',
  '/caf\u00e9',
  '/x?y=1',
  '/x#frag',
  '/a\\b',
  '/a"b<c>d`e{f}g|h^i',
];

describe('HttpUrls: the URL of a call', () => {
  for (const base of BASES) {
    const urls = new HttpUrls('api', normalised(base));
    const own = `${new URL(`${normalised(base)}/`).href}`;
    const absolute = [`${own}charges/1`, `${own}a/../b`, `${own}a b`, 'https://other.example.com/x', 'mailto:a@b.c'];
    it(`joins to ${base} exactly what the URL parser builds (href, origin, pathname)`, () => {
      for (const path of [...PATHS, ...absolute]) {
        const expected = parsed(normalised(base), path);
        const url = urls.resolve(path, undefined);
        expect({ path, href: url.href, origin: url.origin, pathname: url.pathname }).toEqual({
          path,
          href: expected.href,
          origin: expected.origin,
          pathname: expected.pathname,
        });
      }
    });
  }

  it('appends the query to a parsed URL', () => {
    const urls = new HttpUrls('api', 'http://127.0.0.1:8080/v1');
    expect(urls.resolve('/orders', { page: 2, tag: ['a', 'b'] }).href).toBe(
      'http://127.0.0.1:8080/v1/orders?page=2&tag=a&tag=b',
    );
  });

  it('refuses a relative URL without a baseUrl, naming the client', () => {
    expect(() => new HttpUrls('partners', undefined).resolve('/orders', undefined)).toThrow(
      'HTTP client "partners": the URL "/orders" is relative',
    );
  });
});
