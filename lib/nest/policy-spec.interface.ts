/** What a policy decorator records: a configuration name, inline options, or both. */
export interface PolicySpec<TOptions> {
  /** Name of a configuration in the module options (for example `retries.payments`). */
  readonly name?: string;
  /** Inline options; a named configuration overrides them field by field. */
  readonly options?: Partial<TOptions>;
}
