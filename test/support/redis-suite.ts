import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from './redis-server.js';

/** The redis-server of one describe block and an admin client on it (see {@link redisForSuite}). */
export interface RedisSuite {
  readonly server: RedisServer;
  /** `redis://127.0.0.1:<port>` of the server. */
  readonly url: string;
  /** A client for the test's own reads and writes (FLUSHALL, KEYS, INFO); its connection errors are ignored. */
  readonly admin: Redis;
}

/**
 * Starts a real redis-server for the calling describe block before its first test and stops it after the last,
 * with an admin client on it. Call it first in the block: vitest runs after-hooks in reverse order, so the block's
 * own afterAll (closing stores and apps) runs before the server goes.
 */
export function redisForSuite(extraArguments: readonly string[] = []): RedisSuite {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    server = await RedisServer.start(extraArguments);
    admin = new Redis(server.url);
    // Tests stop and restart the server under it; the admin reconnects on its own.
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('redisForSuite(): used before its beforeAll ran');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get url() {
      return started(server).url;
    },
    get admin() {
      return started(admin);
    },
  };
}
