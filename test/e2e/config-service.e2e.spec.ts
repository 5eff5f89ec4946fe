import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ResilienceModule, Retry } from '../../lib/index.js';

@Injectable()
class Gateway {
  calls = 0;

  @Retry('gateway')
  async charge(): Promise<void> {
    this.calls++;
    throw new Error('down');
  }
}

/** The README's forRootAsync example: the attempts come from the environment, as a string. */
function appModule() {
  @Module({
    imports: [
      ResilienceModule.forRootAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
        inject: [ConfigService],
        // As in the README: `get` without a type argument; its value is the environment's string.
        useFactory: (config: ConfigService) => ({
          retries: { gateway: { maxAttempts: config.get('GATEWAY_ATTEMPTS'), initialDelay: 0 } },
        }),
      }),
    ],
    providers: [Gateway],
  })
  class AppModule {}
  return AppModule;
}

afterEach(() => {
  delete process.env.GATEWAY_ATTEMPTS;
});

describe('forRootAsync with ConfigService (values are strings)', () => {
  it('accepts a numeric string from the environment: GATEWAY_ATTEMPTS=4 makes four attempts', async () => {
    process.env.GATEWAY_ATTEMPTS = '4';
    const moduleRef = await (await Test.createTestingModule({ imports: [appModule()] }).compile()).init();
    await expect(moduleRef.get(Gateway).charge()).rejects.toThrow('down');
    expect(moduleRef.get(Gateway).calls).toBe(4);
    await moduleRef.close();
  });

  it('refuses a value that is not a number at bootstrap, saying a string was received', async () => {
    process.env.GATEWAY_ATTEMPTS = 'three';
    await expect(Test.createTestingModule({ imports: [appModule()] }).compile()).rejects.toThrow(
      'Invalid retry option "maxAttempts" = "three" for policy "gateway" ' +
        '(declared on ResilienceModule options "retries"): ' +
        'must be an integer >= 1, got the string "three"',
    );
  });
});
