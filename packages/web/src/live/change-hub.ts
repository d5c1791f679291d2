// One subscription to the store's change notices per web server, fanned out to every live client: the
// first client opens it, the last one to leave closes it. Each client sees only the changes of the DAGs
// its principal may view.
import type { StateStore, StoreChange } from '@batuta/scheduler';

/** A connected client: what it may see, and where its changes go. */
export interface HubClient {
  mayView(dagId: string): boolean;
  send(change: StoreChange): void;
}

/** Fans one store subscription out to the connected clients. */
export class ChangeHub {
  private readonly clients = new Set<HubClient>();
  private subscription: Promise<() => Promise<void>> | undefined;

  constructor(private readonly store: Pick<StateStore, 'watchChanges'>) {}

  /** The clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  /** Adds a client once the subscription listens; resolves to the function that removes it. */
  async add(client: HubClient): Promise<() => Promise<void>> {
    this.clients.add(client);
    try {
      this.subscription ??= this.store.watchChanges((change) => this.fanOut(change));
      await this.subscription;
    } catch (error) {
      this.clients.delete(client);
      this.subscription = undefined;
      throw error;
    }
    return () => this.remove(client);
  }

  private async remove(client: HubClient): Promise<void> {
    if (!this.clients.delete(client) || this.clients.size > 0) return;
    const subscription = this.subscription;
    this.subscription = undefined;
    const stop = await subscription?.catch(() => undefined);
    await stop?.();
  }

  private fanOut(change: StoreChange): void {
    for (const client of this.clients) {
      if (!client.mayView(change.dagId)) continue;
      try {
        client.send(change);
      } catch {
        // A client that cannot take it is dropped by its own stream's close.
      }
    }
  }
}
