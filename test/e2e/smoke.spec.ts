import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { ResilienceModule, Retry } from '../../lib/index.js';

@Injectable()
class Flaky {
  calls = 0;
  @Retry({ maxAttempts: 3, initialDelay: 1, jitter: 'none' })
  async get(): Promise<number> {
    this.calls++;
    if (this.calls < 3) throw new Error('boom');
    return this.calls;
  }
}

@Module({ imports: [ResilienceModule.forRoot({})], providers: [Flaky] })
class AppModule {}

describe('smoke', () => {
  it('retries a provider method', async () => {
    const ref = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await ref.init();
    const flaky = ref.get(Flaky);
    await expect(flaky.get()).resolves.toBe(3);
    await ref.close();
  });
});
