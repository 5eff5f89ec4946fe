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
 * A new pending Promise whose resolving functions are left on `target` (a per-call object): one shared executor, no
 * closure per call (`Promise.withResolvers` allocates an object more and needs Node 22). One write of a new object
 * into long-lived memory (the module variable, and V8's write barrier for it), where leaving both functions in module
 * variables makes two; the functions then go into a young object, which costs none.
 * @internal
 */
export function pendingPromiseFor(target: PromiseSettlers): Promise<unknown> {
  settlers = target;
  const promise = new Promise(captureInto);
  settlers = undefined;
  return promise;
}
