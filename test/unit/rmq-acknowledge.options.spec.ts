import { describe, expect, it } from 'vitest';
import { ResilienceConfigError } from '../../lib/index.js';
import { RmqAcknowledge, type RmqAcknowledgeOptions } from '../../lib/rabbitmq/index.js';

/** Decorates a fresh class's method, as `@RmqAcknowledge(options)` written on `Orders.placed` would. */
function decorate(options: unknown): void {
  class Orders {
    placed(): void {}
  }
  const descriptor = Object.getOwnPropertyDescriptor(Orders.prototype, 'placed')!;
  RmqAcknowledge(options as RmqAcknowledgeOptions)(Orders.prototype, 'placed', descriptor);
}

describe('@RmqAcknowledge options', () => {
  it.each([
    [{}, /"queue".*Orders\.placed/],
    [{ queue: '' }, /"queue"/],
    [{ queue: 'orders', maxDeliveries: 0 }, /"maxDeliveries"/],
    [{ queue: 'orders', maxDeliveries: 2.5 }, /"maxDeliveries"/],
    [{ queue: 'orders', delay: -1 }, /"delay"/],
    [{ queue: 'orders', delay: 'soon' }, /"delay".*string/],
    [{ queue: 'orders', retryIf: true }, /"retryIf".*boolean/],
    [{ queue: 'orders', deadLetterQueue: '' }, /"deadLetterQueue"/],
    [{ queue: 'orders', maxDelivery: 3 }, /Unknown RmqAcknowledge option "maxDelivery".*maxDeliveries/],
  ])('refuses %j at decoration, naming the option and the handler', (options, message) => {
    expect(() => decorate(options)).toThrow(ResilienceConfigError);
    expect(() => decorate(options)).toThrow(message);
  });

  it('accepts a numeric string, as ConfigService gives it', () => {
    expect(() => decorate({ queue: 'orders', maxDeliveries: '4', delay: '1000' })).not.toThrow();
  });

  it('becomes the first interceptor of the method whatever the order of the decorators', () => {
    class Before {}
    class Orders {
      placed(): void {}
    }
    const descriptor = Object.getOwnPropertyDescriptor(Orders.prototype, 'placed')!;
    Reflect.defineMetadata('__interceptors__', [Before], descriptor.value as object);
    RmqAcknowledge({ queue: 'orders' })(Orders.prototype, 'placed', descriptor);
    const interceptors = Reflect.getMetadata('__interceptors__', descriptor.value as object) as { name: string }[];
    expect(interceptors.map((interceptor) => interceptor.name)).toEqual(['RmqAcknowledgementInterceptor', 'Before']);
  });
});
