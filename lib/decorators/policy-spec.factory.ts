import type { PolicySpec } from '../nest/policy-spec.interface.js';

/** Builds the recorded spec from a decorator's `(name?, options?)` or `(options)` arguments. */
export function policySpec<TOptions>(
  nameOrOptions: string | Partial<TOptions> | undefined,
  options: Partial<TOptions> | undefined,
): PolicySpec<TOptions> {
  if (typeof nameOrOptions === 'string') return { name: nameOrOptions, options };
  return { options: nameOrOptions };
}
