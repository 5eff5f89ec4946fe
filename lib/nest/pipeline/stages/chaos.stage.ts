import { validateChaosOptions, type ChaosOptions } from '../../../core/chaos/chaos.options.js';
import { ChaosPolicy } from '../../../core/chaos/chaos.policy.js';
import type { PolicyKind, Stage, StageHost } from '../stage.js';
import { checkChaosExperimentNames } from './chaos-experiment-names.js';

/** Chaos: no decorator, the module option `chaos` switches it on. */
export const CHAOS_KIND: PolicyKind = { label: 'chaos' };

/**
 * Innermost, so that every real policy handles what it injects; only when the module's `chaos` says so. A method's
 * experiment is the target's own entry (`Class.method`), else the first configuration its policies name that has one
 * (in the canonical order).
 */
export const CHAOS_STAGE = {
  name: 'chaos',
  kind: CHAOS_KIND,
  setUp: (host) => {
    const chaos = chaosOptions(host);
    host.registry.chaos.configure(chaos.seed, chaos.maxInjectionsPerMinute);
  },
  build: ({ read, declaredAt }, host) => {
    const chaos = chaosOptions(host);
    const experiments = chaos.experiments ?? {};
    if (!chaos.enabled) return [];
    const candidates = [declaredAt, ...host.configurationNames(read)];
    const name = candidates.find((candidate) => Object.hasOwn(experiments, candidate));
    if (name === undefined) return [];
    return [new ChaosPolicy(host.registry.chaosFor(name, experiments[name]), host.events)];
  },
} as const satisfies Stage;

/** The `chaos` option, validated once per application, at bootstrap. */
function chaosOptions(host: StageHost): ChaosOptions {
  // Read once: an app started outside production cannot turn into one that injects in production.
  return host.once(CHAOS_KIND, () =>
    validateChaosOptions(host.options.chaos ?? { enabled: false }, process.env.NODE_ENV),
  );
}

/**
 * Refuses a chaos experiment that names no configuration and no decorated method (called once every method of the
 * application has its pipeline).
 */
export function checkChaosExperiments(
  host: StageHost,
  configurationNames: readonly string[],
  targets: ReadonlySet<string>,
): void {
  const names = Object.keys(chaosOptions(host).experiments ?? {});
  if (names.length === 0) return;
  checkChaosExperimentNames(names, configurationNames, targets);
}
