import { AdaptiveDuration } from '../../../core/timeout/adaptive-duration.js';
import {
  DEFAULT_TIMEOUT_OPTIONS,
  validateTimeoutOptions,
  type ResolvedAdaptiveTimeoutOptions,
  type TimeoutOptions,
} from '../../../core/timeout/timeout.options.js';
import { TimeoutPolicy } from '../../../core/timeout/timeout.policy.js';
import { TIMEOUT_METADATA, type PolicySpec } from '../../../decorators/resilience.metadata.js';
import type { ConfigurableKind, Stage, StageContext, StageHost } from '../stage.js';

/** `@Timeout`: `timeouts.<name>`, `defaults.timeout`. */
export const TIMEOUT_KIND: ConfigurableKind<TimeoutOptions, 'timeouts', 'timeout'> = {
  label: 'timeout',
  decorator: '@Timeout',
  metadataKey: TIMEOUT_METADATA,
  configKey: 'timeouts',
  defaultsKey: 'timeout',
  libraryDefaults: DEFAULT_TIMEOUT_OPTIONS,
  validate: validateTimeoutOptions,
  example: '{ duration: 800 }',
  stateful: false,
};

/** The total budget (`total`), outside retry: it spans every attempt and backoff. */
export const TOTAL_TIMEOUT_STAGE = {
  name: 'total timeout',
  kind: TIMEOUT_KIND,
  build: (context, host) => timeoutPolicies(context, host, 'total'),
} as const satisfies Stage;

/** The per-attempt timeout (`duration`), inside retry and around the bulkhead, so queue wait counts against it. */
export const TIMEOUT_STAGE = {
  name: 'timeout',
  kind: TIMEOUT_KIND,
  build: (context, host) => timeoutPolicies(context, host, 'attempt'),
} as const satisfies Stage;

function timeoutPolicies({ read, declaredAt }: StageContext, host: StageHost, scope: 'total' | 'attempt') {
  const spec = read(TIMEOUT_METADATA) as PolicySpec<TimeoutOptions> | undefined;
  if (spec === undefined) return [];
  const { name, options } = host.resolve(TIMEOUT_KIND, spec, declaredAt);
  if (scope === 'attempt') {
    // Validation resolved every adaptive option; each method follows its own downstream's latency.
    const adaptive = options.adaptive as ResolvedAdaptiveTimeoutOptions | undefined;
    const duration = adaptive && new AdaptiveDuration(options.duration, adaptive);
    return [new TimeoutPolicy(name, options.duration, 'attempt', host.events, duration)];
  }
  return options.total === undefined ? [] : [new TimeoutPolicy(name, options.total, 'total', host.events)];
}
