/**
 * The `notify-keyspace-events` flags scan mode needs, as Redis spells them: `K` (keyspace channel, key in the
 * channel name) or `E` (keyevent channel, key in the message), and every class of event that changes or removes a
 * key — `g` generic (DEL, EXPIRE, RENAME, ...), `$` strings, `l` lists, `s` sets, `h` hashes, `z` sorted sets,
 * `x` expired, `e` evicted, `t` streams. `A` is Redis's alias for all classes (`d` module events included).
 * `m` (key miss) and `n` (new key) are not needed.
 */

/** Event classes that must all be on. */
export const REQUIRED_CLASSES = 'g$lshzxet';
/** What `A` stands for. */
const ALL_CLASSES = 'g$lshzxetd';
/** What ShardBridge adds when the plan allows it to configure the source. */
export const WANTED_FLAGS = 'KA';

/** Which channel the notifications arrive on. */
export type NotifyFlavour = 'keyspace' | 'keyevent';

/** The flags of a `notify-keyspace-events` value, `A` expanded. */
export function notifyFlags(value: string): Set<string> {
  const flags = new Set<string>();
  for (const flag of value) {
    if (flag === 'A') for (const each of ALL_CLASSES) flags.add(each);
    else flags.add(flag);
  }
  return flags;
}

/**
 * The channel flavour to subscribe to when `value` delivers every needed event class, or null when notifications
 * are (partly) off. Keyspace is preferred when both are on: it carries the event name, useful in logs.
 */
export function usableFlavour(value: string): NotifyFlavour | null {
  const flags = notifyFlags(value);
  for (const flag of REQUIRED_CLASSES) if (!flags.has(flag)) return null;
  if (flags.has('K')) return 'keyspace';
  if (flags.has('E')) return 'keyevent';
  return null;
}

/**
 * The value to set so that notifications are usable while keeping every flag already on (another consumer of
 * keyevent notifications keeps them), e.g. `Ex` → `ExKA`.
 */
export function withWantedFlags(value: string): string {
  const kept = [...value].filter((flag) => !WANTED_FLAGS.includes(flag)).join('');
  return `${kept}${WANTED_FLAGS}`;
}

/** The psubscribe pattern of a flavour (every db). */
export function notifyPattern(flavour: NotifyFlavour): string {
  return flavour === 'keyspace' ? '__keyspace@*__:*' : '__keyevent@*__:*';
}

const KEYSPACE_PREFIX = Buffer.from('__keyspace@');
const KEYEVENT_PREFIX = Buffer.from('__keyevent@');

/**
 * The db and key a notification names, or null for a message that is not a keyspace/keyevent notification.
 * Keyspace: channel `__keyspace@<db>__:<key>`, message = event. Keyevent: channel `__keyevent@<db>__:<event>`,
 * message = key. Keys are binary: they are never decoded.
 */
export function notifiedKey(channel: Buffer, message: Buffer): { db: number; key: Buffer } | null {
  const keyspace = channel.subarray(0, KEYSPACE_PREFIX.length).equals(KEYSPACE_PREFIX);
  if (!keyspace && !channel.subarray(0, KEYEVENT_PREFIX.length).equals(KEYEVENT_PREFIX)) return null;
  let at = KEYSPACE_PREFIX.length;
  let db = 0;
  let digits = 0;
  while (at < channel.length && channel[at] >= 0x30 && channel[at] <= 0x39) {
    db = db * 10 + (channel[at] - 0x30);
    at += 1;
    digits += 1;
  }
  // `__:` after the db number
  if (digits === 0 || channel[at] !== 0x5f || channel[at + 1] !== 0x5f || channel[at + 2] !== 0x3a)
    return null;
  return { db, key: keyspace ? channel.subarray(at + 3) : message };
}
