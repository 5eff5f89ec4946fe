import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';

/**
 * A dashboard guard that works in a browser. A browser sends no `Authorization` header when it opens a page or an
 * `EventSource`, so a bearer-token guard answers 403 there. This one accepts a short-lived signed link
 * (`/resilience?ticket=...`, made by your admin tool with {@link dashboardLink}) and turns it into an `HttpOnly`,
 * `SameSite=Strict` session cookie scoped to the dashboard, which the page's feed and buttons then carry.
 */
const COOKIE = 'resilience_session';
const SESSION_MS = 8 * 60 * 60_000;

function secret(): string {
  const value = process.env.DASHBOARD_SECRET;
  if (value === undefined || value.length < 32) throw new Error('Set DASHBOARD_SECRET (32 characters or more)');
  return value;
}

function sign(purpose: 'link' | 'session', expires: number): string {
  return createHmac('sha256', secret()).update(`${purpose}:${expires}`).digest('base64url');
}

/** `expires.signature` for `purpose`, valid until `expires` (epoch ms). */
function ticket(purpose: 'link' | 'session', ttlMs: number): string {
  const expires = Date.now() + ttlMs;
  return `${expires}.${sign(purpose, expires)}`;
}

function valid(purpose: 'link' | 'session', value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const [expires, signature = ''] = value.split('.');
  const expected = Buffer.from(sign(purpose, Number(expires)));
  const given = Buffer.from(signature);
  return Number(expires) > Date.now() && given.length === expected.length && timingSafeEqual(given, expected);
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** A link to the dashboard at `url` (e.g. `https://api.example.com/resilience`) that works for `ttlMs` (5 min). */
export function dashboardLink(url: string, ttlMs = 5 * 60_000): string {
  return `${url}?ticket=${ticket('link', ttlMs)}`;
}

@Injectable()
export class DashboardSessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{ query?: Record<string, unknown>; headers: Record<string, string | undefined> }>();
    if (valid('link', request.query?.ticket)) {
      // Express and Fastify responses both have `header(name, value)`.
      http
        .getResponse<{ header(name: string, value: string): void }>()
        .header(
          'set-cookie',
          `${COOKIE}=${ticket('session', SESSION_MS)}; HttpOnly; SameSite=Strict; Path=/resilience; ` +
            `Max-Age=${SESSION_MS / 1000}`,
        );
      return true;
    }
    return valid('session', cookie(request.headers.cookie, COOKIE));
  }
}
