/** A scripted downstream shared by the transport tests: counts calls and fails, hangs or answers as told. */
export class Downstream {
  calls = 0;
  /** The next `failures` calls fail with a transient error. */
  failures = 0;
  /** Every call fails while true. */
  down = false;
  /** Calls hang (until the test ends) while true. */
  hanging = false;

  async call(label: string): Promise<string> {
    this.calls++;
    if (this.hanging) await new Promise((resolve) => setTimeout(resolve, 5_000).unref());
    if (this.down) throw new Error('downstream is down');
    if (this.failures > 0) {
      this.failures--;
      throw new Error('transient failure');
    }
    return `${label} #${this.calls}`;
  }
}
