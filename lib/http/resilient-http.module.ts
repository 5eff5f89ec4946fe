import { Inject, Module, type DynamicModule, type ModuleMetadata, type Provider } from '@nestjs/common';
import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import { ResilienceEvents } from '../core/events/resilience-events.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import type { ResilientHttpClientOptions } from './http-client.options.js';
import { ResilientHttpClient } from './resilient-http.client.js';
import { resolveHttpClientOptions } from './resolve-http-options.js';

/**
 * The injection token of the client called `name`: what `@InjectHttpClient(name)` injects. A string, so that Nest's
 * message for a name nobody registered names it.
 */
export function getHttpClientToken(name: string): string {
  return `ResilientHttpClient(${name})`;
}

/** Injects the client registered as `name` with `ResilientHttpModule.register({ name, ... })`. */
export function InjectHttpClient(name: string): PropertyDecorator & ParameterDecorator {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ResilienceConfigError(
      `@InjectHttpClient(name): the name must be a non-empty string, got ${String(name)}`,
      'http client',
    );
  }
  return Inject(getHttpClientToken(name));
}

/** Options of `ResilientHttpModule.registerAsync`: the name now (it is the token), the rest from a factory. */
export interface ResilientHttpModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** The client's name: `@InjectHttpClient(name)`. */
  name: string;
  /** Providers injected into `useFactory` (e.g. `ConfigService`). */
  inject?: readonly (string | symbol | (abstract new (...args: never[]) => unknown))[];
  /** The client's options but its name, e.g. read from `ConfigService`. Checked when the application starts. */
  useFactory: (
    ...args: never[]
  ) => Omit<ResilientHttpClientOptions, 'name'> | Promise<Omit<ResilientHttpClientOptions, 'name'>>;
}

/** Refuses to build a client without `ResilienceModule`: it owns the registry and the events the client reports to. */
function requireResilience(name: string, registry: ResilienceRegistry | undefined): ResilienceRegistry {
  if (registry !== undefined) return registry;
  throw new ResilienceConfigError(
    `ResilientHttpModule: the HTTP client "${name}" needs ResilienceModule.forRoot() (or forRootAsync) in the ` +
      'application: its breakers, bulkheads and events live in the ResilienceRegistry',
    name,
  );
}

/**
 * Registers HTTP clients with the standard resilience pipeline, beside `ResilienceModule.forRoot()` (which must be
 * imported too, globally by default). Each client is a provider injected with `@InjectHttpClient(name)`.
 *
 * @example
 * ```ts
 * imports: [
 *   ResilienceModule.forRoot(),
 *   ResilientHttpModule.register({ name: 'payments', baseUrl: 'https://api.payments.example', retry: { maxAttempts: 3 } }),
 * ]
 * ```
 */
@Module({})
export class ResilientHttpModule {
  /** One or several clients; their options are checked now (a mistake throws a `ResilienceConfigError`). */
  static register(options: ResilientHttpClientOptions | readonly ResilientHttpClientOptions[]): DynamicModule {
    const list: readonly ResilientHttpClientOptions[] = Array.isArray(options)
      ? options
      : [options as ResilientHttpClientOptions];
    const seen = new Set<string>();
    const providers: Provider[] = list.map((each) => {
      const { name } = resolveHttpClientOptions(each, 'ResilientHttpModule.register');
      if (seen.has(name)) {
        throw new ResilienceConfigError(`ResilientHttpModule.register: two clients are called "${name}"`, name);
      }
      seen.add(name);
      return {
        provide: getHttpClientToken(name),
        useFactory: (registry: ResilienceRegistry | undefined, events: ResilienceEvents) =>
          new ResilientHttpClient(each, requireResilience(name, registry), events),
        inject: [
          { token: ResilienceRegistry, optional: true },
          { token: ResilienceEvents, optional: true },
        ],
      };
    });
    return {
      module: ResilientHttpModule,
      providers,
      exports: providers.map((provider) => (provider as { provide: string }).provide),
    };
  }

  /** One client whose options come from a factory (`ConfigService` ...), checked when the application starts. */
  static registerAsync(options: ResilientHttpModuleAsyncOptions): DynamicModule {
    const { name } = resolveHttpClientOptions({ name: options.name }, 'ResilientHttpModule.registerAsync');
    const optionsToken = Symbol(`ResilientHttpClientOptions(${name})`);
    return {
      module: ResilientHttpModule,
      imports: options.imports ?? [],
      providers: [
        { provide: optionsToken, useFactory: options.useFactory, inject: [...(options.inject ?? [])] },
        {
          provide: getHttpClientToken(name),
          useFactory: (
            clientOptions: Omit<ResilientHttpClientOptions, 'name'>,
            registry: ResilienceRegistry | undefined,
            events: ResilienceEvents,
          ) => new ResilientHttpClient({ ...clientOptions, name }, requireResilience(name, registry), events),
          inject: [
            optionsToken,
            { token: ResilienceRegistry, optional: true },
            { token: ResilienceEvents, optional: true },
          ],
        },
      ],
      exports: [getHttpClientToken(name)],
    };
  }
}
