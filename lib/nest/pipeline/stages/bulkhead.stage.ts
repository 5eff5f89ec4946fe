import { AdaptiveBulkheadPolicy } from '../../../core/bulkhead/adaptive-bulkhead.policy.js';
import {
  DEFAULT_BULKHEAD_OPTIONS,
  validateBulkheadOptions,
  type BulkheadOptions,
} from '../../../core/bulkhead/bulkhead.options.js';
import { BulkheadPolicy } from '../../../core/bulkhead/bulkhead.policy.js';
import { BULKHEAD_METADATA, type PolicySpec } from '../../../decorators/resilience.metadata.js';
import type { ConfigurableKind, Stage } from '../stage.js';

/** `@Bulkhead`: `bulkheads.<name>`, `defaults.bulkhead`; every method naming one shares its slots. */
export const BULKHEAD_KIND: ConfigurableKind<BulkheadOptions, 'bulkheads', 'bulkhead'> = {
  label: 'bulkhead',
  decorator: '@Bulkhead',
  metadataKey: BULKHEAD_METADATA,
  configKey: 'bulkheads',
  defaultsKey: 'bulkhead',
  libraryDefaults: DEFAULT_BULKHEAD_OPTIONS,
  validate: validateBulkheadOptions,
  example: '{ maxConcurrent: 10 }',
  stateful: true,
};

/** Inside the per-attempt timeout, so queue wait counts against it; a slot stays taken until the work ends. */
export const BULKHEAD_STAGE = {
  name: 'bulkhead',
  kind: BULKHEAD_KIND,
  build: ({ read, declaredAt }, host) => {
    const spec = read(BULKHEAD_METADATA) as PolicySpec<BulkheadOptions> | undefined;
    if (spec === undefined) return [];
    const { name, options } = host.resolve(BULKHEAD_KIND, spec, declaredAt);
    const bulkhead = host.registry.bulkheadFor(name, options);
    return [bulkhead.adaptive ? new AdaptiveBulkheadPolicy(bulkhead) : new BulkheadPolicy(bulkhead)];
  },
} as const satisfies Stage;
