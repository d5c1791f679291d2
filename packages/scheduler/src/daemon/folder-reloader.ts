// The DAG folder is rescanned inside the daemon's passes, every `reloadMs`: a rescan stats every file,
// far too much work for every poll, and it must never run while a fire's runs are being created.
import { Cadence } from './cadence.js';

/** Calls the reload (e.g. DagFolder.scan) when `everyMs` has passed since the last one. */
export class FolderReloader {
  private readonly reload: (() => Promise<void>) | undefined;
  private readonly cadence: Cadence;

  constructor(options: { reload: (() => Promise<void>) | undefined; everyMs: number }) {
    this.reload = options.reload;
    this.cadence = new Cadence(options.everyMs);
  }

  /** Reloads when one is due (never without a reload function). */
  async reloadIfDue(nowMs: number): Promise<void> {
    if (this.reload && this.cadence.due(nowMs)) await this.reload();
  }
}
