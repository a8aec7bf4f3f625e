import type { Logger } from 'pino';
import { keySlot } from '@shardbridge/target';
import type { KeyspaceSubscriber } from './keyspace-subscriber.js';
import { usableFlavour, withWantedFlags, type NotifyFlavour } from './notify-config.js';
import { ScanConfigForbiddenError, ScanNotificationsOffError } from './scan-errors.js';
import { isRefusal } from './source-client.js';
import type { SourceReader } from './source-reader.js';

const SETTING = 'notify-keyspace-events';

export interface NotifySetupOptions {
  /** may the setting be changed (the plan's `source.configureSource`) */
  configureSource: boolean;
  /** slots the node serves, so the probe key lands on it (cluster); standalone: every slot */
  slots: Array<[number, number]>;
  /** distinguishes the probe keys of shards */
  shardId: string;
  /** how long the probe waits for its own notification */
  probeTimeoutMs: number;
  logger: Logger;
}

/**
 * Makes sure the node publishes the notifications scan mode needs and subscribes to them; returns the flavour.
 *
 * - CONFIG GET works: the setting is checked; when off, it is changed only if the plan allows it (the flags
 *   already on are kept), else {@link ScanNotificationsOffError} gives the exact CONFIG SET line.
 * - CONFIG is refused (managed services): notifications are confirmed by a probe — subscribe to both flavours,
 *   write `shardbridge:scan-probe:{tag}` (1 s expiry) and wait for its notification. No notification (or a
 *   refused probe write) fails with {@link ScanConfigForbiddenError} and the managed-service hint. The probe key
 *   is copied to the target like any key and expires there too.
 * @param probe - the subscriber's notifications are routed here during the probe: call `probe.seen(key)`
 */
export async function prepareNotifications(
  reader: SourceReader,
  subscriber: KeyspaceSubscriber,
  options: NotifySetupOptions,
  probe: { onSeen: ((key: Buffer, flavour: NotifyFlavour) => void) | null },
): Promise<NotifyFlavour> {
  const address = reader.label;
  let current: string;
  try {
    current = await reader.configGet(SETTING);
  } catch (error) {
    if (!isRefusal(error)) throw error;
    return probeNotifications(reader, subscriber, options, probe, (error as Error).message);
  }
  let flavour = usableFlavour(current);
  if (!flavour) {
    const wanted = withWantedFlags(current);
    if (!options.configureSource) throw new ScanNotificationsOffError(address, current, wanted);
    try {
      await reader.configSet(SETTING, wanted);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      throw new ScanConfigForbiddenError(
        address,
        (error as Error).message,
        'CONFIG SET could not turn them on',
      );
    }
    flavour = usableFlavour(await reader.configGet(SETTING)) ?? 'keyspace';
    options.logger.warn(
      { source: address, before: current, after: wanted },
      `turned keyspace notifications on (${SETTING} "${current}" → "${wanted}"); they stay on after the sync`,
    );
  }
  await subscriber.subscribe(flavour);
  return flavour;
}

async function probeNotifications(
  reader: SourceReader,
  subscriber: KeyspaceSubscriber,
  options: NotifySetupOptions,
  probe: { onSeen: ((key: Buffer, flavour: NotifyFlavour) => void) | null },
  configReply: string,
): Promise<NotifyFlavour> {
  const address = reader.label;
  const key = Buffer.from(`shardbridge:scan-probe:{${probeTag(options.slots)}}:${options.shardId}`);
  await subscriber.subscribe('keyspace');
  await subscriber.subscribe('keyevent');
  let timer: NodeJS.Timeout | undefined;
  const seen = new Promise<NotifyFlavour | null>((resolve) => {
    probe.onSeen = (notified, flavour) => {
      if (notified.equals(key)) resolve(flavour);
    };
    timer = setTimeout(() => resolve(null), options.probeTimeoutMs);
  });
  try {
    try {
      await reader.call(0, 'SET', key, '1', 'PX', '1000');
    } catch (error) {
      throw new ScanConfigForbiddenError(
        address,
        configReply,
        `a probe write to check notifications was refused too (${(error as Error).message})`,
      );
    }
    const flavour = await seen;
    if (!flavour) {
      throw new ScanConfigForbiddenError(
        address,
        configReply,
        `no keyspace notification arrived within ${options.probeTimeoutMs} ms of a probe write, so they are off`,
      );
    }
    await subscriber.unsubscribe(flavour === 'keyspace' ? 'keyevent' : 'keyspace');
    options.logger.info(
      { source: address, flavour },
      'CONFIG is refused; a probe confirmed keyspace notifications',
    );
    return flavour;
  } finally {
    clearTimeout(timer);
    probe.onSeen = null;
  }
}

/** A hash tag whose slot the node serves, so the probe key is written to this very node of a cluster. */
function probeTag(slots: Array<[number, number]>): string {
  for (let i = 0; i < 1_000_000; i++) {
    const slot = keySlot(Buffer.from(`p${i}`));
    if (slots.some(([first, last]) => slot >= first && slot <= last)) return `p${i}`;
  }
  return 'p0';
}
