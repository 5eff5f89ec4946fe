/** The meter's name: what a View or a filter of your SDK selects (and the producer's instrumentation scope). */
export const METER_NAME = 'nest-resilience';
