/** The reason a losing attempt's signal is aborted with. */
export class HedgeLostError extends Error {
  constructor() {
    super('Another hedged attempt answered first');
    this.name = 'HedgeLostError';
  }
}
