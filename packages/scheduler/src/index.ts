export type { Clock } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export * from './dag/model.js';
export * from './errors.js';
export * from './executor.js';
export * from './operators/registry.js';
export * from './run/types.js';
export * from './store/state-store.js';
