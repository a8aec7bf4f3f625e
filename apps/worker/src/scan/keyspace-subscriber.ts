import { notifiedKey, notifyPattern, type NotifyFlavour } from './notify-config.js';
import type { ScanLinkError } from './scan-errors.js';
import { openSourceClient, refusalOf, type SourceClient, type SourceClientOptions } from './source-client.js';

/** Told of every key a notification names; `flavour` is the channel it came on. */
export type NotifiedKeyHandler = (db: number, key: Buffer, flavour: NotifyFlavour) => void;

/**
 * The pub/sub connection of a scan-mode shard: PSUBSCRIBE to keyspace (or keyevent) notifications of every db of
 * one source node. Notifications are node-local (also in a cluster), which is why each shard subscribes on its own
 * node. Pub/sub is fire-and-forget: anything published while this connection is down is lost for good, so its
 * loss (`onLost`) must be followed by a resubscription and a re-scan.
 */
export class KeyspaceSubscriber {
  private readonly subscribed = new Set<NotifyFlavour>();

  private constructor(
    private readonly link: SourceClient,
    onKey: NotifiedKeyHandler,
  ) {
    link.redis.on('pmessageBuffer', (pattern: string, channel: Buffer, message: Buffer) => {
      const named = notifiedKey(channel, message);
      if (!named) return;
      onKey(named.db, named.key, pattern === notifyPattern('keyspace') ? 'keyspace' : 'keyevent');
    });
  }

  static async open(
    options: SourceClientOptions,
    onKey: NotifiedKeyHandler,
    onLost: (error: ScanLinkError) => void,
  ): Promise<KeyspaceSubscriber> {
    return new KeyspaceSubscriber(await openSourceClient(options, 'notification', onLost), onKey);
  }

  /** Resolves once the server confirmed the subscription: from then on no change of the node goes unseen. */
  async subscribe(flavour: NotifyFlavour): Promise<void> {
    if (this.subscribed.has(flavour)) return;
    try {
      await this.link.redis.psubscribe(notifyPattern(flavour));
    } catch (error) {
      throw refusalOf(error, this.link.label, 'PSUBSCRIBE');
    }
    this.subscribed.add(flavour);
  }

  async unsubscribe(flavour: NotifyFlavour): Promise<void> {
    if (!this.subscribed.delete(flavour)) return;
    await this.link.redis.punsubscribe(notifyPattern(flavour));
  }

  close(): void {
    this.link.close();
  }
}
