import { ChaosFaultError } from '../errors/chaos-fault.error.js';
import type { ChaosExperimentOptions } from './chaos.options.js';

/** What a chaos experiment can inject. */
export type ChaosInjectionKind = 'fault' | 'latency' | 'outcome';

/** The rates of an experiment, each a probability from 0 to 1. */
export type ChaosRates = Record<ChaosInjectionKind, number>;

/** An experiment as the registry shows it: its rates now and what it injected so far. */
export interface ChaosSnapshot {
  readonly name: string;
  readonly rates: Readonly<ChaosRates>;
  readonly injected: Readonly<Record<ChaosInjectionKind, number>>;
}

/** What to do with one call: wait first (`delay`), then call, fail or answer a value. */
export interface ChaosPlan {
  readonly delay: number | undefined;
  readonly replace: 'fault' | 'outcome' | undefined;
}

/** The part of the registry's chaos controls an experiment asks on every call. */
export interface ChaosSwitch {
  /** False while paused: nothing is drawn, nothing injected. */
  readonly active: boolean;
  /** A number in [0, 1): seeded when the module says so. */
  random(): number;
  /** Takes one injection from the per-minute cap; false when the cap is reached. */
  take(): boolean;
}

/**
 * One named chaos experiment of an application: its rates (changeable at run time through the registry), its
 * injections so far, and the draw that decides each call.
 */
export class ChaosState {
  private readonly rates: ChaosRates;
  private readonly injected: Record<ChaosInjectionKind, number> = { fault: 0, latency: 0, outcome: 0 };

  constructor(
    readonly name: string,
    readonly options: ChaosExperimentOptions,
    private readonly controls: ChaosSwitch,
  ) {
    this.rates = {
      fault: options.fault?.rate ?? 0,
      latency: options.latency?.rate ?? 0,
      outcome: options.outcome?.rate ?? 0,
    };
  }

  /** Changes some rates now (the next call draws with them); validated by the registry. */
  setRates(rates: Partial<ChaosRates>): void {
    Object.assign(this.rates, rates);
  }

  snapshot(): ChaosSnapshot {
    return { name: this.name, rates: { ...this.rates }, injected: { ...this.injected } };
  }

  /**
   * Draws what to inject into one call, `undefined` for nothing: the common case, decided without calling
   * `enabledWhen` or drawing when paused or every rate is 0. `args` go to `enabledWhen`.
   */
  plan(args: readonly unknown[]): ChaosPlan | undefined {
    const { rates, controls } = this;
    if (!controls.active || (rates.fault === 0 && rates.latency === 0 && rates.outcome === 0)) return undefined;
    const { enabledWhen } = this.options;
    if (enabledWhen !== undefined && !(enabledWhen as (...args: unknown[]) => boolean)(...args)) return undefined;
    const delay = this.draw('latency') ? this.delay() : undefined;
    let replace: ChaosPlan['replace'];
    if (this.draw('fault')) replace = 'fault';
    else if (this.draw('outcome')) replace = 'outcome';
    return delay === undefined && replace === undefined ? undefined : { delay, replace };
  }

  /** The error of an injected fault. */
  fault(): unknown {
    const factory = this.options.fault?.error;
    return factory === undefined ? new ChaosFaultError(this.name) : factory();
  }

  /** The value of an injected outcome. */
  outcome(): unknown {
    return this.options.outcome!.value();
  }

  private draw(kind: ChaosInjectionKind): boolean {
    const rate = this.rates[kind];
    if (rate === 0 || !(this.controls.random() < rate) || !this.controls.take()) return false;
    this.injected[kind]++;
    return true;
  }

  private delay(): number {
    const delay = this.options.latency!.delay;
    if (typeof delay === 'number') return delay;
    return delay.min + this.controls.random() * (delay.max - delay.min);
  }
}
