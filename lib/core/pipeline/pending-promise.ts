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
