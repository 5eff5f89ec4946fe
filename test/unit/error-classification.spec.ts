import { HttpException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { httpStatusOf, isTransientError, retryAfterOf } from '../../lib/index.js';

describe('HTTP error classification', () => {
  it('reads the status of Nest, fetch-style and axios-style errors', () => {
    expect(httpStatusOf(new HttpException('x', 418))).toBe(418);
    expect(httpStatusOf({ status: 502 })).toBe(502);
    expect(httpStatusOf({ statusCode: 404 })).toBe(404);
    expect(httpStatusOf({ response: { status: 429 } })).toBe(429);
    expect(httpStatusOf(new Error('plain'))).toBeUndefined();
    expect(httpStatusOf('string')).toBeUndefined();
  });

  it('treats 4xx other than 408 and 429 as permanent', () => {
    expect(isTransientError({ status: 400 })).toBe(false);
    expect(isTransientError({ status: 408 })).toBe(true);
    expect(isTransientError({ status: 429 })).toBe(true);
    expect(isTransientError({ status: 500 })).toBe(true);
    expect(isTransientError(new Error('ECONNRESET'))).toBe(true);
  });

  it('parses Retry-After seconds and dates from 429 and 503 answers only', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(retryAfterOf({ status: 503, headers: new Headers({ 'Retry-After': '7' }) }, now)).toBe(7000);
    expect(
      retryAfterOf({ response: { status: 429, headers: { 'retry-after': 'Tue, 24 Nov 2026 10:00:30 GMT' } } }, now),
    ).toBe(30_000);
    expect(retryAfterOf({ status: 500, headers: { 'retry-after': '7' } }, now)).toBeUndefined();
    expect(retryAfterOf({ status: 429, headers: { 'retry-after': 'soon' } }, now)).toBeUndefined();
  });
});
