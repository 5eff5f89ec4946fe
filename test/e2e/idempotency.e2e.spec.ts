import {
  BadRequestException,
  Body,
  Controller,
  HttpException,
  Module,
  Param,
  Patch,
  Post,
  Put,
  Res,
  StreamableFile,
  type ExecutionContext,
} from '@nestjs/common';
import { Observable, of } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Fallback, Idempotent, ResilienceModule, Retry, Timeout } from '../../lib/index.js';
import { PLATFORMS } from './http-harness.js';
import { createKeyedApp, type KeyedApp } from './idempotency-http.js';

const calls: Record<string, number> = {};
const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** `/slow` holds its answer until the test opens this gate: its concurrent requests all arrive while it runs. */
let slowGate = gate();
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

@Controller()
class PaymentsController {
  @Post('payments')
  @Idempotent()
  charge(@Body() body: { amount: number }, @Res({ passthrough: true }) response: HeaderSetter) {
    const id = `pay_${count('payments')}`;
    response.header('ETag', `"${id}"`);
    response.header('Location', `/payments/${id}`);
    response.header('Set-Cookie', 'session=secret');
    return { id, amount: body.amount };
  }

  @Patch('payments/:id')
  @Idempotent()
  update(@Param('id') id: string, @Body() body: object) {
    return { id, calls: count('patch'), ...body };
  }

  @Put('payments/:id')
  @Idempotent()
  replace(@Param('id') id: string) {
    return { id, calls: count('put') };
  }

  @Post('slow')
  @Idempotent()
  async slow() {
    count('slow');
    await slowGate.promise;
    return { done: true };
  }

  @Post('slow-wait')
  @Idempotent({ onInFlight: { wait: 2000 } })
  async slowWait() {
    const call = count('slow-wait');
    await sleep(150);
    return { call };
  }

  @Post('required')
  @Idempotent({ required: true })
  required() {
    return { calls: count('required') };
  }

  @Post('scoped')
  @Idempotent({
    scope: (context: ExecutionContext) => String(context.switchToHttp().getRequest<Req>().headers['x-user']),
  })
  scoped(@Body() body: object) {
    return { calls: count('scoped'), body };
  }

  @Post('fields')
  @Idempotent({ fingerprint: ['amount'] })
  fields() {
    return { calls: count('fields') };
  }

  @Post('server-error')
  @Idempotent()
  serverError() {
    count('server-error');
    throw new HttpException('downstream failed', 503);
  }

  @Post('server-error-all')
  @Idempotent({ replay: 'all' })
  serverErrorAll() {
    count('server-error-all');
    throw new HttpException('downstream failed', 503);
  }

  @Post('client-error')
  @Idempotent()
  clientError() {
    count('client-error');
    throw new BadRequestException('card declined');
  }

  @Post('timeout')
  @Idempotent()
  @Timeout(50)
  async timeout() {
    count('timeout');
    await sleep(300);
    return { late: true };
  }

  @Post('retried')
  @Idempotent()
  @Retry({ maxAttempts: 3, initialDelay: 1, jitter: 'none' })
  retried() {
    if (count('retried') % 3 !== 0) throw new HttpException('try again', 503);
    return { calls: calls.retried };
  }

  @Post('file')
  @Idempotent()
  file() {
    count('file');
    return new StreamableFile(Buffer.from('receipt'));
  }

  @Post('emits-twice')
  @Idempotent()
  emitsTwice(): Observable<{ part: number }> {
    count('emits-twice');
    return of({ part: 1 }, { part: 2 });
  }

  @Post('fallback')
  @Idempotent()
  @Fallback({ value: { queued: true } })
  fallback() {
    count('fallback');
    throw new HttpException('down', 503);
  }
}

/** What Express responses and Fastify replies both offer. */
interface HeaderSetter {
  header(name: string, value: string): unknown;
}

interface Req {
  headers: Record<string, string | undefined>;
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [PaymentsController] })
class AppModule {}

const key = (name: string) => ({ 'Idempotency-Key': `${name}-${Math.random().toString(36).slice(2)}` });

describe.each(PLATFORMS)('@Idempotent on %s', (platform) => {
  let app: KeyedApp;

  beforeAll(async () => {
    app = await createKeyedApp(platform, AppModule);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    for (const name of Object.keys(calls)) delete calls[name];
  });

  it('replays the stored status, body and safe headers with Idempotent-Replayed, never Set-Cookie', async () => {
    const headers = key('replay');
    const first = await app.post('/payments', { amount: 42 }, headers);
    const second = await app.post('/payments', { amount: 42 }, headers);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second).toMatchObject({ status: 201, body: first.body });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['set-cookie']).toBeDefined();
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.headers.location).toBe(first.headers.location);
    expect(String(second.headers['content-type'])).toContain('application/json');
    expect(calls.payments).toBe(1);
  });

  it('ignores the key order of the body, and answers 422 to the same key with another payload', async () => {
    const headers = key('fingerprint');
    await app.post('/payments', { amount: 42, currency: 'EUR' }, headers);
    const reordered = await app.post('/payments', { currency: 'EUR', amount: 42 }, headers);
    const other = await app.post('/payments', { amount: 43, currency: 'EUR' }, headers);
    expect(reordered.status).toBe(201);
    expect(other.status).toBe(422);
    expect(String(other.headers['content-type'])).toContain('application/problem+json');
    expect(other.body).toMatchObject({
      status: 422,
      code: 'IDEMPOTENCY_KEY_MISMATCH',
      policy: 'PaymentsController.charge',
    });
    expect(calls.payments).toBe(1);
  });

  it('runs 20 concurrent requests with one key exactly once; the others get 409 with Retry-After', async () => {
    const headers = key('concurrent');
    slowGate = gate();
    let answered = 0;
    const pending = Array.from({ length: 20 }, () =>
      app.post('/slow', {}, headers).then((answer) => {
        answered++;
        return answer;
      }),
    );
    // The 19 that find the key in flight are answered at once; then the first one may finish.
    await vi.waitFor(() => expect(answered).toBe(19));
    slowGate.resolve();
    const answers = await Promise.all(pending);
    const statuses = answers.map((answer) => answer.status).sort();
    expect(calls.slow).toBe(1);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    const conflict = answers.find((answer) => answer.status === 409)!;
    expect(conflict.headers['retry-after']).toBe('1');
    expect(conflict.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT', status: 409 });
  });

  it('with onInFlight: { wait }, concurrent requests wait and receive the first answer', async () => {
    const headers = key('wait');
    const answers = await Promise.all(Array.from({ length: 20 }, () => app.post('/slow-wait', {}, headers)));
    expect(calls['slow-wait']).toBe(1);
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    expect(answers.every((answer) => (answer.body as { call: number }).call === 1)).toBe(true);
    expect(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
  });

  it.each([
    ['an empty key', ''],
    ['a key with a space', 'a b'],
    ['a key of 256 characters', 'k'.repeat(256)],
    ['an unterminated quoted string', '"abc'],
    ['a list of keys', 'a, b'],
    ['non-ASCII', 'clé'],
  ])('answers 400 IDEMPOTENCY_KEY_INVALID to %s', async (_name, value) => {
    const answer = await app.post('/payments', { amount: 1 }, { 'Idempotency-Key': value });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    expect(String(answer.headers['content-type'])).toContain('application/problem+json');
    expect(calls.payments).toBeUndefined();
  });

  it('accepts a 255-character key and an RFC 8941 quoted string, unescaped', async () => {
    const long = await app.post('/payments', { amount: 1 }, { 'Idempotency-Key': 'k'.repeat(255) + Math.random() });
    expect(long.status).toBe(400); // 255 + the random suffix: too long
    const exact = `${Math.random()}`.slice(2).padEnd(255, 'x');
    expect((await app.post('/payments', { amount: 1 }, { 'Idempotency-Key': exact })).status).toBe(201);
    // The quoted string and the bare token of the same characters are one key: the quotes are syntax, not key.
    const bare = `q-${Math.random()}`;
    expect((await app.post('/payments', { amount: 1 }, { 'Idempotency-Key': `"${bare}"` })).status).toBe(201);
    const again = await app.post('/payments', { amount: 1 }, { 'Idempotency-Key': bare });
    expect(again.headers['idempotent-replayed']).toBe('true');
    // An escaped quote inside a quoted string is accepted, and is a key of its own (unescaped: q"...).
    const escaped = `"q\\"${bare.slice(2)}"`;
    expect((await app.post('/payments', { amount: 1 }, { 'Idempotency-Key': escaped })).status).toBe(201);
    expect(calls.payments).toBe(3);
  });

  it('runs requests without a key as usual; 400 IDEMPOTENCY_KEY_MISSING when the key is required', async () => {
    await app.post('/payments', { amount: 1 });
    await app.post('/payments', { amount: 1 });
    expect(calls.payments).toBe(2);
    const missing = await app.post('/required', {});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({
      code: 'IDEMPOTENCY_KEY_MISSING',
      status: 400,
      policy: 'PaymentsController.required',
    });
    expect(calls.required).toBeUndefined();
  });

  it('applies to POST and PATCH by default, not PUT', async () => {
    const headers = key('methods');
    await app.post('/payments/1', { note: 'a' }, headers, 'PATCH');
    const patched = await app.post('/payments/1', { note: 'a' }, headers, 'PATCH');
    expect(patched.headers['idempotent-replayed']).toBe('true');
    await app.post('/payments/1', {}, headers, 'PUT');
    await app.post('/payments/1', {}, headers, 'PUT');
    expect(calls).toMatchObject({ patch: 1, put: 2 });
  });

  it("scopes records: one key from two users runs twice, never showing one user the other's answer", async () => {
    const headers = key('scope');
    const alice = await app.post('/scoped', { who: 'alice' }, { ...headers, 'x-user': 'alice' });
    const bob = await app.post('/scoped', { who: 'bob' }, { ...headers, 'x-user': 'bob' });
    expect(calls.scoped).toBe(2);
    expect(bob.body).toMatchObject({ body: { who: 'bob' } });
    expect(alice.body).toMatchObject({ body: { who: 'alice' } });
  });

  it('fingerprints only the listed fields when asked to', async () => {
    const headers = key('fields');
    await app.post('/fields', { amount: 5, note: 'first' }, headers);
    const sameAmount = await app.post('/fields', { amount: 5, note: 'second' }, headers);
    const otherAmount = await app.post('/fields', { amount: 6, note: 'first' }, headers);
    expect(sameAmount.headers['idempotent-replayed']).toBe('true');
    expect(otherAmount.status).toBe(422);
    expect(calls.fields).toBe(1);
  });

  it('does not store 5xx answers: the retry runs again', async () => {
    const headers = key('5xx');
    expect((await app.post('/server-error', {}, headers)).status).toBe(503);
    expect((await app.post('/server-error', {}, headers)).status).toBe(503);
    expect(calls['server-error']).toBe(2);
  });

  it("stores 5xx answers with replay: 'all'", async () => {
    const headers = key('5xx-all');
    await app.post('/server-error-all', {}, headers);
    const again = await app.post('/server-error-all', {}, headers);
    expect(again.status).toBe(503);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(calls['server-error-all']).toBe(1);
  });

  it('stores 4xx answers and replays them', async () => {
    const headers = key('4xx');
    const first = await app.post('/client-error', {}, headers);
    const again = await app.post('/client-error', {}, headers);
    expect(first.status).toBe(400);
    expect(again).toMatchObject({ status: 400, body: first.body });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(calls['client-error']).toBe(1);
  });

  it("does not store the library's own timeout: the retry runs again", async () => {
    const headers = key('timeout');
    expect((await app.post('/timeout', {}, headers)).status).toBe(504);
    expect((await app.post('/timeout', {}, headers)).status).toBe(504);
    expect(calls.timeout).toBe(2);
  });

  it('stores what the client finally got, after @Fallback', async () => {
    const headers = key('fallback');
    const first = await app.post('/fallback', {}, headers);
    const again = await app.post('/fallback', {}, headers);
    expect(first).toMatchObject({ status: 201, body: { queued: true } });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(calls.fallback).toBe(1);
  });

  it('lets @Retry repeat a POST that carries a key, and only then', async () => {
    const keyed = await app.post('/retried', {}, key('retry'));
    expect(keyed).toMatchObject({ status: 201, body: { calls: 3 } });
    delete calls.retried;
    const bare = await app.post('/retried', {});
    expect(bare.status).toBe(503);
    expect(calls.retried).toBe(1);
  });

  it('sends streaming answers without storing them: the same key runs again', async () => {
    const headers = key('stream');
    const first = await app.post('/file', {}, headers);
    await app.post('/file', {}, headers);
    expect(first.status).toBe(201);
    expect(calls.file).toBe(2);
    const emitted = await app.post('/emits-twice', {}, headers);
    await app.post('/emits-twice', {}, headers);
    expect(emitted).toMatchObject({ status: 201, body: { part: 2 } });
    expect(calls['emits-twice']).toBe(2);
  });

  it('keeps an answer for the 24 h ttl, then runs the key again (controlled clock)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const headers = key('ttl');
      await app.post('/payments', { amount: 7 }, headers);
      vi.setSystemTime(Date.now() + 24 * 3600_000 - 1);
      expect((await app.post('/payments', { amount: 7 }, headers)).headers['idempotent-replayed']).toBe('true');
      vi.setSystemTime(Date.now() + 1);
      expect((await app.post('/payments', { amount: 7 }, headers)).headers['idempotent-replayed']).toBeUndefined();
      expect(calls.payments).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
