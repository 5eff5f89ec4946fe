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
/**
 * A path the WHATWG URL parser leaves as it is after the base: only characters it never percent-encodes nor
 * rewrites (no `%`, `\`, `?`, `#`, space), so `base + path` is the URL it would build.
 */
const VERBATIM_PATH = /^[\w\-.~!$&'()*+,;=:@/]*$/;
/** A `.` or `..` segment, which the parser resolves (`/a/../b` is `/b`). */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

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
    const absolute = ABSOLUTE.test(path);
    if (query === undefined && base !== undefined) {
      const rest = absolute ? (path.startsWith(base) ? path.slice(base.length) : undefined) : stripSlashes(path);
      if (rest !== undefined && VERBATIM_PATH.test(rest) && !DOT_SEGMENT.test(rest)) {
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

function stripSlashes(path: string): string {
  return path.charCodeAt(0) === 0x2f ? path.replace(/^\/+/, '') : path;
}
