import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClassNames } from '../../lib/nest/pipeline/class-names.js';

/** A fresh class called `name` (a distinct constructor each call). */
function classNamed(name: string): abstract new () => unknown {
  return { [name]: class {} }[name];
}

describe('ClassNames: what same-named classes are called', () => {
  afterEach(() => vi.restoreAllMocks());

  it('keeps a unique name; the same class found again (in a second module) keeps its first name', () => {
    const names = new ClassNames();
    const orders = classNamed('OrdersController');
    expect(names.register(orders, 'AModule')).toBe('OrdersController');
    expect(names.register(orders, 'BModule')).toBe('OrdersController');
    expect(names.nameOf(orders)).toBe('OrdersController');
  });

  it('names later namesakes after their module, then #n if the module clashes too, warning once each', () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const names = new ClassNames();
    const [first, second, third, lazy] = [1, 2, 3, 4].map(() => classNamed('Payments'));
    expect(names.register(first, 'BillingModule')).toBe('Payments');
    expect(names.register(second, 'ShopModule')).toBe('ShopModule/Payments');
    expect(names.register(third, 'ShopModule')).toBe('ShopModule/Payments#2');
    // A class first seen on a request (a lazily loaded module): no module to name it after.
    expect(names.nameOf(lazy)).toBe('Payments#2');
    expect(names.nameOf(second)).toBe('ShopModule/Payments');
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls[0][0]).toMatch(/^Two classes are named Payments \(in BillingModule\) and \(in ShopModule\)/);
    expect(warn.mock.calls[0][0]).toContain("the second one's policies");
    expect(warn.mock.calls[0][0]).toContain('named ShopModule/Payments.<method>');
  });
});
