/**
 * Errors of scan mode. Each names the source node and the fix; `code` is stable for status pages and alerts.
 * Transient ones (a lost link) make the shard reconnect and re-scan; the others fail it.
 */

/** Keyspace notifications are off on a source node and the plan does not let ShardBridge turn them on. */
export class ScanNotificationsOffError extends Error {
  override name = 'ScanNotificationsOffError';
  readonly code = 'SCAN_NOTIFY_DISABLED';
  constructor(address: string, current: string, wanted: string) {
    super(
      `source ${address} has keyspace notifications off (notify-keyspace-events is ${JSON.stringify(current)}), ` +
        'so scan mode cannot see live changes: run `CONFIG SET notify-keyspace-events ' +
        `${wanted}\` on ${address}, or set "configureSource": true on the plan's source to let ShardBridge do it`,
    );
  }
}

/**
 * CONFIG is refused (managed services block it) and keyspace notifications could not be confirmed otherwise:
 * the operator must enable them in the service's own configuration.
 */
export class ScanConfigForbiddenError extends Error {
  override name = 'ScanConfigForbiddenError';
  readonly code = 'SCAN_CONFIG_FORBIDDEN';
  constructor(address: string, reply: string, detail: string) {
    super(
      `source ${address} refuses CONFIG (${reply}), as managed services do, and ${detail}: enable keyspace ` +
        'notifications in the service’s configuration (e.g. the parameter group / server parameter ' +
        '"notify-keyspace-events" = "KA"), then restart the shard',
    );
  }
}

/** The source refused a command scan mode needs (ACL or renamed away). */
export class ScanCommandRefusedError extends Error {
  override name = 'ScanCommandRefusedError';
  readonly code = 'SCAN_COMMAND_REFUSED';
  constructor(address: string, command: string, reply: string) {
    super(
      `source ${address} refused ${command} (${reply}): scan mode needs SCAN, DUMP, PTTL, EXISTS, INFO and ` +
        'PSUBSCRIBE — grant the user +scan +dump +pttl +exists +info +select +psubscribe +config|get and the ' +
        'channels &__keyspace@*__:* &__keyevent@*__:* (ACL), or un-rename the command',
    );
  }
}

/**
 * A connection of scan mode (to the source: commands or notifications; to the target: its key listing) was lost
 * (`*_LOST`, transient: reconnect and re-scan) or could not be made (`*_UNREACHABLE`).
 */
export class ScanLinkError extends Error {
  override name = 'ScanLinkError';
  constructor(
    readonly code:
      'SCAN_SOURCE_LOST' | 'SCAN_SOURCE_UNREACHABLE' | 'SCAN_TARGET_LOST' | 'SCAN_TARGET_UNREACHABLE',
    message: string,
  ) {
    super(message);
  }
}
