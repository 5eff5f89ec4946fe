/**
 * A Promise settled from outside, without a closure per call: `new Promise(capture)` runs one shared executor, which
 * leaves the Promise's resolving functions here, read right after by the caller of {@link pendingPromise}.
 * (`Promise.withResolvers` allocates an object more and needs Node 22.)
 * @internal
 */
export let pendingResolve: (value: unknown) => void = () => undefined;
/** @internal The reject function of the Promise {@link pendingPromise} made last. */
export let pendingReject: (reason: unknown) => void = () => undefined;

function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  pendingResolve = resolve;
  pendingReject = reject;
}

/**
 * A new pending Promise; read {@link pendingResolve} and {@link pendingReject} at once, before anything else makes one.
 * @internal
 */
export function pendingPromise(): Promise<unknown> {
  return new Promise(capture);
}

/** What {@link pendingPromiseFor} leaves a Promise's resolving functions on. */
export interface PromiseSettlers {
  resolve: ((value: unknown) => void) | undefined;
  reject: ((reason: unknown) => void) | undefined;
}

/** The object the shared executor of {@link pendingPromiseFor} writes to, only while the Promise is being made. */
let settlers: PromiseSettlers | undefined;

function captureInto(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  settlers!.resolve = resolve;
  settlers!.reject = reject;
}

/**
 * A new pending Promise whose resolving functions are left on `target` (a per-call object). Cheaper than
 * {@link pendingPromise} on a hot path: one write of a new object into long-lived memory (the module variable, and
 * V8's write barrier for it) where that makes two, the two functions then go into a young object, which costs none.
 * @internal
 */
export function pendingPromiseFor(target: PromiseSettlers): Promise<unknown> {
  settlers = target;
  const promise = new Promise(captureInto);
  settlers = undefined;
  return promise;
}
