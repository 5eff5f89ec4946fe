import { NamedPolicies } from '../registry/named-policies.js';
import { OptionsValidator } from '../validation/options.validator.js';
import { chaosRate } from './chaos.options.js';
import { seededRandom } from './seeded-random.js';
import type { ChaosRates, ChaosSnapshot, ChaosState, ChaosSwitch } from './chaos.state.js';

const MINUTE = 60_000;

/**
 * The chaos experiments of an application and the operator's switch: `pause()` stops every injection at once (the
 * next call runs untouched), `resume()` starts them again, `set(name, { fault: 0 })` changes rates now.
 */
export class ChaosExperiments extends NamedPolicies<ChaosState, ChaosSnapshot> implements ChaosSwitch {
  private pausedNow = false;
  private draw: () => number = Math.random;
  private cap = Infinity;
  private windowStart = 0;
  private windowCount = 0;

  constructor() {
    super('chaos experiment');
  }

  /** True while paused. */
  get paused(): boolean {
    return this.pausedNow;
  }

  /** Stops every injection now, until `resume()`. */
  pause(): void {
    this.pausedNow = true;
  }

  /** Lets the experiments inject again. */
  resume(): void {
    this.pausedNow = false;
  }

  /**
   * Changes the rates of the experiment `name` now (probabilities from 0 to 1; `0` stops that injection). Throws a
   * `ResilienceConfigError` for a bad rate and an `UnknownPolicyError` for an unknown name.
   */
  set(name: string, rates: Partial<ChaosRates>): void {
    const experiment = this.get(name);
    const validator = new OptionsValidator('chaos experiment', name, 'registry.chaos.set');
    validator.knownOptions(rates, ['fault', 'latency', 'outcome']);
    const checked: Partial<ChaosRates> = {};
    for (const [kind, rate] of Object.entries(rates) as [keyof ChaosRates, unknown][]) {
      if (rate === undefined) continue;
      if (kind === 'outcome' && experiment.options.outcome === undefined && rate !== 0) {
        validator.fail('outcome', rate, 'needs an outcome.value in the experiment options');
      }
      if (kind === 'latency' && experiment.options.latency === undefined && rate !== 0) {
        validator.fail('latency', rate, 'needs a latency.delay in the experiment options');
      }
      checked[kind] = chaosRate(validator, kind, rate);
    }
    experiment.setRates(checked);
  }

  /** @internal True unless paused. */
  get active(): boolean {
    return !this.pausedNow;
  }

  /** @internal */
  random(): number {
    return this.draw();
  }

  /** @internal One injection from the per-minute cap. */
  take(): boolean {
    if (this.cap === Infinity) return true;
    const now = Date.now();
    if (now - this.windowStart >= MINUTE) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (this.windowCount >= this.cap) return false;
    this.windowCount++;
    return true;
  }

  /** @internal The module's seed and cap, at bootstrap. */
  configure(seed: number | undefined, maxInjectionsPerMinute: number | undefined): void {
    this.draw = seed === undefined ? Math.random : seededRandom(seed);
    this.cap = maxInjectionsPerMinute ?? Infinity;
  }
}
