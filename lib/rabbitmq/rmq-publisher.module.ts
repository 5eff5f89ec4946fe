import {
  Inject,
  Module,
  type DynamicModule,
  type ModuleMetadata,
  type FactoryProvider,
  type Provider,
} from '@nestjs/common';
import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import { ResilienceEvents } from '../core/events/resilience-events.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { RmqPublisher } from './rmq-publisher.js';
import { resolveRmqPublisherOptions, type RmqPublisherOptions } from './rmq-publisher.options.js';

/** The injection token of the publisher called `name` (what `@InjectRmqPublisher(name)` injects). */
export function getRmqPublisherToken(name = 'default'): string {
  return `RmqPublisher(${name})`;
}

/** Injects the publisher registered as `name` (default `'default'`) with `RmqPublisherModule.register`. */
export function InjectRmqPublisher(name = 'default'): PropertyDecorator & ParameterDecorator {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ResilienceConfigError(
      `@InjectRmqPublisher(name): the name must be a non-empty string, got ${String(name)}`,
      'RmqPublisher',
    );
  }
  return Inject(getRmqPublisherToken(name));
}

/** Options of `RmqPublisherModule.registerAsync`: the name now (it is the token), the rest from a factory. */
export interface RmqPublisherModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** The publisher's name: `@InjectRmqPublisher(name)`. Default `'default'`. */
  name?: string;
  /** Providers injected into `useFactory` (e.g. `ConfigService`). */
  inject?: readonly (string | symbol | (abstract new (...args: never[]) => unknown))[];
  /** The publisher's options but its name, e.g. read from `ConfigService`. Checked when the application starts. */
  useFactory: (...args: never[]) => Omit<RmqPublisherOptions, 'name'> | Promise<Omit<RmqPublisherOptions, 'name'>>;
}

function publisherProvider(
  name: string,
  factory: (...args: never[]) => RmqPublisher,
  inject: NonNullable<FactoryProvider['inject']>,
): Provider {
  return { provide: getRmqPublisherToken(name), useFactory: factory, inject };
}

/**
 * Registers RabbitMQ publishers with publisher confirms, retries and an outbox, beside `ResilienceModule.forRoot()`
 * (whose registry shows each outbox and whose events report parked and sent messages; without it the publisher works
 * and reports nothing). Each publisher is injected with `@InjectRmqPublisher(name)`; it connects at bootstrap (a
 * broker that is down does not stop the application: publishes are parked) and closes at shutdown.
 *
 * @example
 * ```ts
 * imports: [
 *   ResilienceModule.forRoot(),
 *   RmqPublisherModule.register({ urls: ['amqp://localhost:5672'], queue: 'orders' }),
 * ]
 * ```
 */
@Module({})
export class RmqPublisherModule {
  /** One or several publishers; their options are checked now (a mistake throws a `ResilienceConfigError`). */
  static register(options: RmqPublisherOptions | readonly RmqPublisherOptions[]): DynamicModule {
    const list: readonly RmqPublisherOptions[] = Array.isArray(options) ? options : [options as RmqPublisherOptions];
    const seen = new Set<string>();
    const providers: Provider[] = list.map((each) => {
      const { name } = resolveRmqPublisherOptions(each, 'RmqPublisherModule.register');
      if (seen.has(name)) {
        throw new ResilienceConfigError(`RmqPublisherModule.register: two publishers are called "${name}"`, name);
      }
      seen.add(name);
      return publisherProvider(
        name,
        (registry: ResilienceRegistry | undefined, events: ResilienceEvents | undefined) =>
          new RmqPublisher(each, registry, events),
        [
          { token: ResilienceRegistry, optional: true },
          { token: ResilienceEvents, optional: true },
        ],
      );
    });
    return RmqPublisherModule.module(
      [...seen].map((name) => getRmqPublisherToken(name)),
      providers,
      [],
    );
  }

  /** One publisher whose options come from a factory (`ConfigService` ...), checked when the application starts. */
  static registerAsync(options: RmqPublisherModuleAsyncOptions): DynamicModule {
    const name = options.name ?? 'default';
    const optionsToken = Symbol(`RmqPublisherOptions(${name})`);
    return RmqPublisherModule.module(
      [getRmqPublisherToken(name)],
      [
        { provide: optionsToken, useFactory: options.useFactory, inject: [...(options.inject ?? [])] },
        publisherProvider(
          name,
          (
            publisherOptions: Omit<RmqPublisherOptions, 'name'>,
            registry: ResilienceRegistry | undefined,
            events: ResilienceEvents | undefined,
          ) => new RmqPublisher({ ...publisherOptions, name }, registry, events),
          [optionsToken, { token: ResilienceRegistry, optional: true }, { token: ResilienceEvents, optional: true }],
        ),
      ],
      options.imports ?? [],
    );
  }

  private static module(
    tokens: readonly string[],
    providers: Provider[],
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    // Each publisher connects in its onApplicationBootstrap and closes in its onApplicationShutdown.
    return { module: RmqPublisherModule, imports, providers, exports: [...tokens] };
  }
}
