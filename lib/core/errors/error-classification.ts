/**
 * Reads an HTTP status from the error shapes Node services meet: Nest's `HttpException` (`getStatus()`), errors
 * with `status` or `statusCode` (fetch wrappers, got, http-errors) and axios errors (`response.status`).
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const candidate = error as {
    getStatus?: unknown;
    status?: unknown;
    statusCode?: unknown;
    response?: { status?: unknown } | null;
  };
  if (typeof candidate.getStatus === 'function') {
    const status: unknown = (candidate.getStatus as () => unknown).call(error);
    if (typeof status === 'number') return status;
  }
  if (typeof candidate.status === 'number') return candidate.status;
  if (typeof candidate.statusCode === 'number') return candidate.statusCode;
  const responseStatus = candidate.response?.status;
  return typeof responseStatus === 'number' ? responseStatus : undefined;
}

/**
 * True unless the error is an HTTP 4xx answer other than 408 (request timeout) and 429 (too many requests):
 * a client error will fail the same way again, everything else (5xx, network errors, timeouts) may not.
 */
export function isTransientError(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status === undefined || status < 400 || status >= 500) return true;
  return status === 408 || status === 429;
}

/**
 * The delay a 429 or 503 answer asks for in its `Retry-After` header, in milliseconds (both the seconds and the
 * HTTP-date forms), or `undefined`. Looks at axios-style `response.headers` and fetch-style `headers`.
 */
export function retryAfterOf(error: unknown, now = Date.now()): number | undefined {
  const status = httpStatusOf(error);
  if (status !== 429 && status !== 503) return undefined;
  const candidate = error as { headers?: unknown; response?: { headers?: unknown } | null };
  const raw = headerValue(candidate.response?.headers, 'retry-after') ?? headerValue(candidate.headers, 'retry-after');
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const getter = (headers as { get?: unknown }).get;
  const value: unknown =
    typeof getter === 'function'
      ? (getter as (key: string) => unknown).call(headers, name)
      : (headers as Record<string, unknown>)[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}
