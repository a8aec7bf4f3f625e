/** One line of `CLUSTER NODES`, as seen by one node. */
export interface ClusterNodeEntry {
  id: string;
  /** `ip:port` the node is reached at over the bus view (never the announced hostname). */
  address: string;
  /** Announced hostname, when the node has one (`cluster-announce-hostname`). */
  hostname?: string;
  flags: string[];
  role: 'master' | 'replica';
  /** Master id for replicas, undefined for masters. */
  masterId?: string;
  configEpoch: number;
  connected: boolean;
  /** Slot ranges served, inclusive, e.g. `[[0, 5460]]`; importing/migrating markers are dropped. */
  slots: Array<[number, number]>;
}

/** Parses `CLUSTER NODES` output (`<id> <ip:port@cport[,hostname]> <flags> <master> ... <slots>`). */
export function parseClusterNodes(text: string): ClusterNodeEntry[] {
  const entries: ClusterNodeEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, endpoint, flagList, master, , , epoch, link, ...slotFields] = fields;
    const [addressWithBus, hostname] = endpoint.split(',');
    const address = addressWithBus.split('@')[0];
    const flags = flagList.split(',');
    const slots: Array<[number, number]> = [];
    for (const slot of slotFields) {
      if (slot.startsWith('[')) continue;
      const [from, to] = slot.split('-').map(Number);
      slots.push([from, to ?? from]);
    }
    entries.push({
      id,
      address,
      ...(hostname ? { hostname } : {}),
      flags,
      role: flags.includes('slave') ? 'replica' : 'master',
      ...(master !== '-' ? { masterId: master } : {}),
      configEpoch: Number(epoch),
      connected: link === 'connected',
      slots,
    });
  }
  return entries;
}

/**
 * A view-independent fingerprint of a topology: who is master of which slots, who replicates whom, who is
 * failed. Two nodes agree on the cluster when their fingerprints are equal. `myself`, `fail?` (a local suspicion)
 * and link state are left out on purpose.
 */
export function topologyFingerprint(entries: ClusterNodeEntry[]): string {
  return entries
    .map((entry) => {
      const failed = entry.flags.includes('fail') ? ' fail' : '';
      const slots = entry.slots.map(([from, to]) => `${from}-${to}`).join(',');
      return `${entry.id} ${entry.role} ${entry.masterId ?? '-'} ${slots}${failed}`;
    })
    .sort()
    .join('\n');
}
