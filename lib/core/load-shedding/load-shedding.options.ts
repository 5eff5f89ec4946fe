import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';

/** How much a request matters when the process must shed load: `sheddable` goes first, `critical` last. */
export type RequestPriority = 'critical' | 'normal' | 'sheddable';

/** Where a load signal starts shedding (`soft`) and where everything but critical requests is shed (`hard`). */
export interface LoadThresholds {
  readonly soft: number;
  readonly hard: number;
}

/** Options of the module option `loadShedding`. */
export interface LoadSheddingOptions {
  /**
   * 99th percentile of the event-loop delay over a sample, in milliseconds; `false` ignores it.
   * Default `{ soft: 50, hard: 200 }`.
   */
  eventLoopDelay: LoadThresholds | false;
  /** Share of time the event loop is busy, 0 to 1; `false` ignores it. Default `{ soft: 0.9, hard: 0.98 }`. */
  eventLoopUtilization: LoadThresholds | false;
  /** Heap in use as a share of the heap limit, 0 to 1; `false` ignores it. Default `{ soft: 0.85, hard: 0.95 }`. */
  heapUsed: LoadThresholds | false;
  /** Milliseconds between two samples of the signals (in the background, on an unref'd timer). Default `500`. */
  sampleInterval: number;
  /**
   * How far past `hard` critical requests are shed too, as a share of the soft-to-hard distance: `0.5` sheds
   * them from `hard + (hard - soft) / 2`. Default `0.5`.
   */
  criticalMargin: number;
  /** Milliseconds the client is told to wait (`Retry-After`, rounded up to seconds). Default `5_000`. */
  retryAfter: number;
  /**
   * HTTP paths never shed, for health checks and metrics scrapes: a route declared at one of these or below it
   * (`@Controller('health')`, whatever global prefix the app adds), or a request whose path is one of these or
   * below it. Default `['/health', '/metrics']`.
   */
  exemptPaths: readonly string[];
}

/** Library defaults of `loadShedding` (frozen). */
export const DEFAULT_LOAD_SHEDDING_OPTIONS: Readonly<LoadSheddingOptions> = deepFreeze({
  eventLoopDelay: { soft: 50, hard: 200 },
  eventLoopUtilization: { soft: 0.9, hard: 0.98 },
  heapUsed: { soft: 0.85, hard: 0.95 },
  sampleInterval: 500,
  criticalMargin: 0.5,
  retryAfter: 5_000,
  exemptPaths: ['/health', '/metrics'],
});

const LOAD_SHEDDING_OPTION_NAMES = Object.keys({
  eventLoopDelay: true,
  eventLoopUtilization: true,
  heapUsed: true,
  sampleInterval: true,
  criticalMargin: true,
  retryAfter: true,
  exemptPaths: true,
} satisfies Record<keyof LoadSheddingOptions, true>);

/** The signals, with the largest threshold each accepts (`Infinity`: any number of milliseconds). */
const SIGNALS = { eventLoopDelay: Infinity, eventLoopUtilization: 1, heapUsed: 1 } as const;

/**
 * Throws a clear configuration error when an option is invalid or unknown (thresholds out of order or out of range,
 * every signal off); returns the options with numeric strings converted to numbers.
 */
export function validateLoadSheddingOptions(
  options: LoadSheddingOptions,
  validator: OptionsValidator,
): LoadSheddingOptions {
  validator.knownOptions(options, LOAD_SHEDDING_OPTION_NAMES);
  const normalized: LoadSheddingOptions = {
    ...options,
    sampleInterval: validator.positiveDuration('sampleInterval', options.sampleInterval),
    criticalMargin: validator.numberAtLeast('criticalMargin', options.criticalMargin, 0),
    retryAfter: validator.positiveDuration('retryAfter', options.retryAfter),
  };
  for (const [signal, max] of Object.entries(SIGNALS) as [keyof typeof SIGNALS, number][]) {
    normalized[signal] = thresholds(signal, options[signal], max, validator);
  }
  if (SIGNAL_NAMES.every((signal) => normalized[signal] === false)) {
    validator.fail('eventLoopDelay', false, 'and every other signal are off: nothing could ever be shed');
  }
  const paths = options.exemptPaths as unknown;
  if (!Array.isArray(paths) || paths.some((path) => typeof path !== 'string' || !path.startsWith('/'))) {
    validator.fail('exemptPaths', paths, 'must be an array of paths starting with "/", e.g. ["/health"]');
  }
  return normalized;
}

const SIGNAL_NAMES = Object.keys(SIGNALS) as (keyof typeof SIGNALS)[];

function thresholds(signal: string, value: unknown, max: number, validator: OptionsValidator): LoadThresholds | false {
  if (value === false || value === 'false') return false;
  const example = max === 1 ? '{ soft: 0.9, hard: 0.98 }' : '{ soft: 50, hard: 200 }';
  if (typeof value !== 'object' || value === null) {
    return validator.fail(signal, value, `must be { soft, hard } or false, e.g. ${example}`);
  }
  const { soft, hard, ...unknown } = value as Record<string, unknown>;
  validator.knownOptions(unknown, []);
  const range = max === 1 ? 'between 0 and 1' : 'a number of milliseconds >= 0';
  const normalized = {
    soft: validator.numberAtLeast(`${signal}.soft`, soft, 0),
    hard: validator.numberAtLeast(`${signal}.hard`, hard, 0),
  };
  if (normalized.hard > max) validator.fail(`${signal}.hard`, hard, `must be ${range}`);
  if (normalized.soft >= normalized.hard) {
    validator.fail(`${signal}.soft`, soft, `must be below ${signal}.hard (${normalized.hard})`);
  }
  return normalized;
}
