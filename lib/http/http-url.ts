import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import type { HttpQuery } from './http-request.options.js';
import { appendQuery } from './http-request-parts.js';

/** What a call needs of its URL: a `URL` has these, and so has the record {@link HttpUrls} builds without one. */
export interface HttpTarget {
  readonly href: string;
  readonly origin: string;
  readonly pathname: string;
}

/** An absolute URL: a scheme, then `:`. */
const ABSOLUTE = /^[a-z][a-z\d+\-.]*:/i;
const SLASH = 0x2f;
const DOT = 0x2e;
/**
 * The characters of a path the WHATWG URL parser leaves as they are after the base: those it never percent-encodes
 * nor rewrites (no `%`, `\`, `?`, `#`, space), by char code: `[\w\-.~!$&'()*+,;=:@/]`.
 */
const VERBATIM = new Uint8Array(128);
for (const char of "-.~!$&'()*+,;=:@/_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  VERBATIM[char.charCodeAt(0)] = 1;
}

/**
 * Whether the parser keeps `path` as it is after the base, so that `base + path` is the URL it would build: only
 * {@link VERBATIM} characters, and no `.` or `..` segment (which it resolves: `/a/../b` is `/b`). One scan, where two
 * regular expressions cost more than the rest of resolving the URL.
 */
function isVerbatimPath(path: string): boolean {
  let segmentStart = 0;
  let dots = 0;
  for (let index = 0; index < path.length; index++) {
    const code = path.charCodeAt(index);
    if (code >= 128 || VERBATIM[code] === 0) return false;
    if (code === SLASH) {
      if (dots === index - segmentStart && dots > 0 && dots <= 2) return false;
      segmentStart = index + 1;
      dots = 0;
    } else if (code === DOT) dots++;
  }
  return !(dots === path.length - segmentStart && dots > 0 && dots <= 2);
}

/**
 * The URLs of one client's calls. A path under `baseUrl` (relative, or absolute with `baseUrl` in front) made of
 * characters the URL parser keeps as they are is joined to the base as a string: parsing a `URL` per call, and reading
 * its origin and path back, cost more than the rest of building a request. Any other URL is parsed, as before.
 */
export class HttpUrls {
  /** `baseUrl` + `/`, as the parser writes it. */
  private readonly baseHref: string | undefined;
  private readonly basePath: string = '';
  private readonly baseOrigin: string = '';

  constructor(
    private readonly client: string,
    /** The client's `baseUrl`, normalised by the options (its `href`, no trailing `/`). */
    private readonly baseUrl: string | undefined,
  ) {
    if (baseUrl === undefined) return;
    const base = new URL(`${baseUrl}/`);
    this.baseHref = base.href;
    this.basePath = base.pathname;
    this.baseOrigin = base.origin;
  }

  /** The absolute URL of `path`: as is when absolute, else `baseUrl` + `/` + `path`; with `query` appended. */
  resolve(path: string, query: HttpQuery | undefined): HttpTarget {
    const base = this.baseHref;
    // A path starting with `/` (the usual call) has no scheme: no expression to run for it.
    const absolute = path.charCodeAt(0) !== SLASH && ABSOLUTE.test(path);
    if (query === undefined && base !== undefined) {
      const rest = absolute ? (path.startsWith(base) ? path.slice(base.length) : undefined) : stripSlashes(path);
      if (rest !== undefined && isVerbatimPath(rest)) {
        return { href: base + rest, origin: this.baseOrigin, pathname: this.basePath + rest };
      }
    }
    let url: URL;
    if (absolute) {
      url = new URL(path);
    } else if (this.baseUrl === undefined) {
      throw new ResilienceConfigError(
        `HTTP client "${this.client}": the URL "${path}" is relative and the client has no baseUrl ` +
          `(give ResilientHttpModule.register({ name: '${this.client}', baseUrl: 'https://...' }), ` +
          'or an absolute URL)',
        this.client,
      );
    } else {
      url = new URL(`${this.baseUrl}/${stripSlashes(path)}`);
    }
    if (query !== undefined) appendQuery(url, query);
    return url;
  }
}

/** `path` without its leading slashes (a scan and one slice, not a regular expression's replace). */
function stripSlashes(path: string): string {
  let start = 0;
  while (path.charCodeAt(start) === SLASH) start++;
  return start === 0 ? path : path.slice(start);
}
