// What one executor or worker has, what it has handed out and the most it ever handed out at once. The
// LocalExecutor and the BullMQ ResourceWorker admit by the same rule, so they keep their books here.
import type { ResourceSpec } from '@batuta/scheduler';
import { OrchestratorError } from '../errors.js';
import { addResources, fits, invalidResourceDimension, maxResources, subtractResources } from './resources.js';

/** Free and used resources of one capacity: `reserve` before a body starts, `release` when it settles. */
export class ResourceLedger {
  /** Everything there is to hand out. */
  readonly capacity: ResourceSpec;
  private freeNow: ResourceSpec;
  private peak: ResourceSpec;

  /** Throws BAD_CAPACITY, naming `owner` (e.g. `worker`), when a dimension is negative or not finite. */
  constructor(capacity: ResourceSpec, owner: string) {
    const problem = invalidResourceDimension(capacity);
    if (problem) throw new OrchestratorError('BAD_CAPACITY', `${owner} capacity has ${problem}`);
    this.capacity = { ...capacity, custom: { ...capacity.custom } };
    this.freeNow = this.capacity;
    // Zero on every dimension the capacity names, so a peak reads like the capacity it is measured against.
    this.peak = subtractResources(this.capacity, this.capacity);
  }

  /** What is not reserved now. */
  get free(): ResourceSpec {
    return this.freeNow;
  }

  /** True when `need` fits what is free now. */
  fitsFree(need: ResourceSpec): boolean {
    return fits(need, this.freeNow);
  }

  /** True when `need` fits the whole capacity: with everything released it could run. */
  fitsCapacity(need: ResourceSpec): boolean {
    return fits(need, this.capacity);
  }

  /** Hands `need` out; the caller checked `fitsFree` (the ledger does not refuse, so it never half-applies). */
  reserve(need: ResourceSpec): void {
    this.freeNow = subtractResources(this.freeNow, need);
    const used = this.inUse();
    if (!fits(used, this.peak)) this.peak = maxResources(this.peak, used);
  }

  /** Takes back what `reserve` handed out. */
  release(need: ResourceSpec): void {
    this.freeNow = addResources(this.freeNow, need);
  }

  /** What is reserved now. */
  inUse(): ResourceSpec {
    return subtractResources(this.capacity, this.freeNow);
  }

  /** The most of each dimension ever reserved at once (each dimension's own peak). */
  peakInUse(): ResourceSpec {
    return { ...this.peak, custom: { ...this.peak.custom } };
  }
}
