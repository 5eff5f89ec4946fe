import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LoadShedderState,
  LoadShedError,
  ResilienceEvents,
  type LoadSample,
  type LoadSheddingOptions,
  type ResilienceEvent,
} from '../../lib/index.js';
import { DEFAULT_LOAD_SHEDDING_OPTIONS } from '../../lib/core/load-shedding/load-shedding.options.js';
import { ProcessLoadSampler } from '../../lib/core/load-shedding/process-load.sampler.js';
import { validateLoadSheddingOptions } from '../../lib/core/load-shedding/load-shedding.options.js';
import { OptionsValidator } from '../../lib/core/validation/options.validator.js';

const HEALTHY: LoadSample = { eventLoopDelay: 0, eventLoopUtilization: 0.1, heapUsed: 0.2 };
const target = { className: 'Api', methodName: 'list' };

/** A shedder whose load is whatever `load.now` says, sampled every 500 ms; `draw` is its random number. */
function shedderOf(options: Partial<LoadSheddingOptions> = {}) {
  const load = { now: HEALTHY };
  const draw = { value: 0.5 };
  const events = new ResilienceEvents();
  const seen: ResilienceEvent[] = [];
  events.subscribe((event) => seen.push(event));
  const sampler = { sample: vi.fn(() => load.now), close: vi.fn() };
  const shedder = new LoadShedderState(
    { ...DEFAULT_LOAD_SHEDDING_OPTIONS, ...options },
    sampler,
    events,
    () => draw.value,
  );
  return { shedder, load, draw, seen, sampler };
}

describe('LoadShedderState', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('samples in the background on its interval, never per request, and stops when closed', () => {
    const { shedder, sampler } = shedderOf({ sampleInterval: 500 });
    expect(sampler.sample).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_500);
    expect(sampler.sample).toHaveBeenCalledTimes(3);
    shedder.close();
    vi.advanceTimersByTime(5_000);
    expect(sampler.sample).toHaveBeenCalledTimes(3);
    expect(sampler.close).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stays at level 0 below every soft threshold, shedding nothing', () => {
    const { shedder } = shedderOf();
    shedder.sample();
    expect(shedder.snapshot()).toMatchObject({ level: 0, dropProbability: 0 });
    expect(shedder.shedding).toBe(false);
  });

  it('raises the drop probability above the middle of the band, holds it there, lowers it below', () => {
    const { shedder, load, draw } = shedderOf({ eventLoopDelay: { soft: 50, hard: 150 } });
    load.now = { ...HEALTHY, eventLoopDelay: 130 }; // level 0.8: each sample adds 0.05 x (0.8 - 0.5)
    for (let i = 0; i < 20; i++) shedder.sample();
    expect(shedder.dropProbability).toBeCloseTo(0.3);
    draw.value = 0.29;
    expect(shedder.shed('normal', target)).toMatchObject({ code: 'LOAD_SHED', reason: 'event-loop-delay' });
    draw.value = 0.31;
    expect(shedder.shed('normal', target)).toBeUndefined();

    load.now = { ...HEALTHY, eventLoopDelay: 100 }; // level 0.5, the middle: the probability stays
    shedder.sample();
    expect(shedder.snapshot()).toMatchObject({ level: 0.5 });
    expect(shedder.dropProbability).toBeCloseTo(0.3);
    draw.value = 0.59; // sheddable requests: twice the probability
    expect(shedder.shed('sheddable', target)).toBeInstanceOf(LoadShedError);
    draw.value = 0.61;
    expect(shedder.shed('sheddable', target)).toBeUndefined();

    // Every signal below soft: the probability falls by 0.05 a sample here, and from the second such sample on also
    // by a quarter of what is left: 0.25, 0.1375, 0.053, 0.
    load.now = HEALTHY;
    for (let i = 0; i < 3; i++) shedder.sample();
    expect(shedder.shedding).toBe(true);
    expect(shedder.dropProbability).toBeCloseTo(0.053, 3);
    shedder.sample();
    expect(shedder.dropProbability).toBe(0);
    expect(shedder.shedding).toBe(false);
    expect(shedder.snapshot().shed).toEqual({ critical: 0, normal: 1, sheddable: 1 });
  });

  it('closes a quarter of the gap to 1 per sample while the level stays past hard (a saturated loop)', () => {
    const { shedder, load } = shedderOf({ eventLoopDelay: { soft: 50, hard: 150 } });
    load.now = { ...HEALTHY, eventLoopDelay: 250 }; // level 2
    shedder.sample();
    expect(shedder.dropProbability).toBeCloseTo(0.075); // the first sample past hard: the integrator alone
    shedder.sample();
    expect(shedder.dropProbability).toBeCloseTo(0.075 + 0.075 + 0.25 * (1 - 0.075));
    for (let i = 0; i < 10; i++) shedder.sample();
    expect(shedder.dropProbability).toBe(1);
  });

  it('admits everything again within five seconds of an overload ending, on its own interval', () => {
    const { shedder, load } = shedderOf(); // the defaults: soft 50 ms of delay, a 500 ms interval
    load.now = { ...HEALTHY, eventLoopDelay: 400 };
    vi.advanceTimersByTime(10_000);
    expect(shedder.dropProbability).toBe(1);
    // Idle: no delay at all, the loop 5% busy. The delay's distance below soft (a third of the band) alone would
    // lower the probability by 0.042 a sample, 12 s from 1 to 0.
    load.now = { eventLoopDelay: 0, eventLoopUtilization: 0.05, heapUsed: 0.4 };
    vi.advanceTimersByTime(2_000);
    expect(shedder.dropProbability).toBeGreaterThan(0.2); // not all at once: one idle sample is no proof
    vi.advanceTimersByTime(2_000);
    expect(shedder.dropProbability).toBe(0);
    expect(shedder.shedding).toBe(false);
  });

  it('refuses every sheddable request from hard on, critical ones only past hard plus the margin', () => {
    const { shedder, load, draw } = shedderOf({ eventLoopDelay: { soft: 50, hard: 150 }, criticalMargin: 0.5 });
    draw.value = 0.999_999;
    load.now = { ...HEALTHY, eventLoopDelay: 150 };
    shedder.sample();
    expect(shedder.shedding).toBe(true);
    expect(shedder.shed('sheddable', target)).toBeInstanceOf(LoadShedError);
    expect(shedder.shed('normal', target)).toBeUndefined(); // the drop probability has only begun to rise
    expect(shedder.shed('critical', target)).toBeUndefined();
    load.now = { ...HEALTHY, eventLoopDelay: 200 }; // hard + half of (hard - soft)
    shedder.sample();
    expect(shedder.shed('critical', target)).toMatchObject({ priority: 'critical', retryAfterMs: 5_000 });
    expect(shedder.snapshot()).toMatchObject({ level: 1.5, reason: 'event-loop-delay', shed: { critical: 1 } });
  });

  it('settles under a steady 2x overload instead of swinging between shedding all and nothing', () => {
    // A process offered twice what it can serve: its utilisation is what it admits (refusals cost nothing here).
    const { shedder, load } = shedderOf();
    const offered = 2;
    const probabilities: number[] = [];
    for (let i = 0; i < 80; i++) {
      const admitted = offered * (1 - shedder.dropProbability);
      load.now = { ...HEALTHY, eventLoopUtilization: Math.min(1, admitted) };
      shedder.sample();
      probabilities.push(shedder.dropProbability);
    }
    const settled = probabilities.slice(-20);
    // It serves 0.94 of its capacity (the middle of the 0.9-0.98 band): it sheds 1 - 0.94 / 2 of the requests.
    for (const probability of settled) expect(probability).toBeCloseTo(0.53, 1);
    expect(Math.max(...settled) - Math.min(...settled)).toBeLessThan(0.05);
  });

  it('takes the signal furthest past its threshold as the reason, ignoring signals that are off', () => {
    const { shedder, load } = shedderOf({ eventLoopDelay: false });
    load.now = { eventLoopDelay: 10_000, eventLoopUtilization: 0.94, heapUsed: 0.93 };
    shedder.sample();
    expect(shedder.snapshot()).toMatchObject({ reason: 'heap' });
    expect(shedder.level).toBeCloseTo(0.8);
  });

  it('reports when shedding starts and stops, and each request it sheds', () => {
    const { shedder, load, seen, draw } = shedderOf();
    load.now = { ...HEALTHY, eventLoopUtilization: 1 }; // level 1.25: shedding starts, the probability at 0.0375
    shedder.sample();
    draw.value = 0.01;
    shedder.shed('normal', target);
    load.now = HEALTHY; // the worst signal (delay) half a band below soft: 0.05 less, down to 0
    shedder.sample();
    expect(seen.map((event) => event.type)).toEqual(['load-pressure', 'load-shed', 'load-pressure']);
    expect(seen[1]).toMatchObject({
      policy: 'loadShedding',
      target,
      priority: 'normal',
      reason: 'event-loop-utilization',
    });
    expect(seen[2]).toMatchObject({ level: 0, reason: undefined });
  });
});

describe('validateLoadSheddingOptions', () => {
  const validate = (options: Record<string, unknown>) =>
    validateLoadSheddingOptions(
      { ...DEFAULT_LOAD_SHEDDING_OPTIONS, ...options },
      new OptionsValidator('load shedding', 'loadShedding', 'ResilienceModule options'),
    );

  it('accepts numeric strings and false for a signal', () => {
    expect(validate({ eventLoopDelay: { soft: '20', hard: '80' }, heapUsed: false })).toMatchObject({
      eventLoopDelay: { soft: 20, hard: 80 },
      heapUsed: false,
    });
  });

  it.each([
    [{ eventLoopDelay: { soft: 200, hard: 100 } }, /"eventLoopDelay.soft" = 200 .*must be below eventLoopDelay.hard/],
    [{ eventLoopUtilization: { soft: 0.5, hard: 1.5 } }, /"eventLoopUtilization.hard" = 1.5 .*between 0 and 1/],
    [{ heapUsed: 0.9 }, /"heapUsed" = 0.9 .*must be \{ soft, hard \} or false/],
    [{ eventLoopDelay: { soft: 1, hard: 2, hrad: 3 } }, /Unknown load shedding option "hrad"/],
    [{ eventLoopDelay: false, eventLoopUtilization: false, heapUsed: false }, /nothing could ever be shed/],
    [{ sampleInterval: 0 }, /"sampleInterval" = 0 .*greater than 0/],
    [{ exemptPaths: ['health'] }, /"exemptPaths" = \["health"\] .*starting with "\/"/],
    [{ sampleIntreval: 100 }, /Did you mean "sampleInterval"/],
  ])('refuses %j', (options, message) => {
    expect(() => validate(options)).toThrow(message);
  });
});

describe('ProcessLoadSampler', () => {
  it('sees a blocked event loop as delay and utilisation', async () => {
    const sampler = new ProcessLoadSampler();
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      sampler.sample();
      // An overloaded loop: blocked 60 ms at a time, with short breaks in which the monitor's timer runs late.
      for (let block = 0; block < 6; block++) {
        const blockedUntil = Date.now() + 60;
        while (Date.now() < blockedUntil) {
          // busy
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const sample = sampler.sample();
      expect(sample.eventLoopDelay).toBeGreaterThan(30);
      expect(sample.eventLoopUtilization).toBeGreaterThan(0.4);
      expect(sample.heapUsed).toBeGreaterThan(0);
      expect(sample.heapUsed).toBeLessThan(1);
    } finally {
      sampler.close();
    }
  });
});
