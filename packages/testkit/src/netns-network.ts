import { NetnsError } from './errors.js';
import { runCommand, runCommandSync } from './netns-command.js';

/**
 * Two network namespaces that model a source behind a NAT gateway, as seen from this host:
 *
 * ```
 * host  <uplink>/30 .1 ── veth ── .2 router ns  <internal>/24 .1 ── veth ── .2 inside ns
 * ```
 *
 * The host only has a route to the uplink /30; for the internal /24 it gets an `unreachable` route, so a dial
 * of an internal address fails at once (EHOSTUNREACH) instead of leaking onto the machine's real network. The
 * router DNATs `<router>:<port + offset>` to `<internal>:<port>` for every {@link NatNetwork.forward}ed port;
 * replies return through it (the inside namespace's default route), where conntrack undoes the DNAT.
 */
export interface NatNetwork {
  /** Namespace the servers run in (`ip netns exec <inside> ...`). */
  readonly inside: string;
  /** Namespace of the NAT gateway. */
  readonly router: string;
  /** The router's host-facing address: the only address of the network this host can dial. */
  readonly routerHost: string;
  /** This host's end of the uplink: the peer address the inside servers see for connections from here. */
  readonly hostAddress: string;
  /** The inside namespace's own address; not routable from this host. */
  readonly internalHost: string;
  /** The internal subnet as CIDR, e.g. `10.252.7.0/24`. */
  readonly internalSubnet: string;
  /** Publishes `internalHost:port` as `routerHost:port + portOffset` (DNAT). Resolves with the router port. */
  forward(port: number, portOffset: number): Promise<number>;
  /** Kills every process left in the namespaces, deletes them, the host veth and the route. Idempotent. */
  stop(): Promise<void>;
}

/** Namespace names start with this, then `<pid>-<n>-` so a later run can tell whose they were. */
const PREFIX = 'sbnat-';
const live = new Set<NetworkNames>();
/** Slots chosen by this process whose routes may not exist yet: concurrent starts must not pick the same. */
const reservedSlots = new Set<number>();
let hooked = false;
let counter = 0;

interface NetworkNames {
  slot?: number;
  router: string;
  inside: string;
  hostLink: string;
  internalSubnet: string;
}

/**
 * Creates a {@link NatNetwork} with names unique to this process (pid + counter) and subnets no route of this
 * host overlaps. Partial setups are torn down before the error is thrown. Requires root (CAP_NET_ADMIN +
 * CAP_SYS_ADMIN for `ip netns`), iproute2 and nftables with nf_nat in the kernel; a {@link NetnsError}'s
 * `reason` says which is missing.
 */
export async function startNatNetwork(): Promise<NatNetwork> {
  if (process.platform !== 'linux') throw new NetnsError('network namespaces need Linux', 'not Linux');
  await sweepStaleNetworks();
  const slot = await claimSlot();
  const n = counter++;
  const id = `${process.pid.toString(36)}${n.toString(36)}`;
  const names: NetworkNames = {
    slot,
    router: `${PREFIX}${process.pid}-${n}-router`,
    inside: `${PREFIX}${process.pid}-${n}-inside`,
    // Interface names are limited to 15 bytes.
    hostLink: `sbn${id}h`.slice(0, 15),
    internalSubnet: `10.252.${slot}.0/24`,
  };
  const uplink = { host: `10.253.${slot}.1`, router: `10.253.${slot}.2` };
  const internal = { router: `10.252.${slot}.1`, inside: `10.252.${slot}.2` };
  live.add(names);
  hookExit();
  const ip = (...args: string[]) => runCommand('ip', args);
  const inRouter = (...args: string[]) => ip('-n', names.router, ...args);
  const inInside = (...args: string[]) => ip('-n', names.inside, ...args);
  try {
    await ip('netns', 'add', names.router);
    await ip('netns', 'add', names.inside);
    await ip('link', 'add', names.hostLink, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', names.router);
    await ip('addr', 'add', `${uplink.host}/30`, 'dev', names.hostLink);
    await ip('link', 'set', names.hostLink, 'up');
    await inRouter('link', 'add', 'inner', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', names.inside);
    await inRouter('addr', 'add', `${uplink.router}/30`, 'dev', 'uplink');
    await inRouter('addr', 'add', `${internal.router}/24`, 'dev', 'inner');
    for (const link of ['lo', 'uplink', 'inner']) await inRouter('link', 'set', link, 'up');
    await inInside('addr', 'add', `${internal.inside}/24`, 'dev', 'eth0');
    for (const link of ['lo', 'eth0']) await inInside('link', 'set', link, 'up');
    await inInside('route', 'add', 'default', 'via', internal.router);
    // /proc/sys/net is per namespace: written from inside the router it switches forwarding on there only.
    await ip('netns', 'exec', names.router, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward');
    await runCommand(
      'ip',
      ['netns', 'exec', names.router, 'nft', '-f', '-'],
      [
        'table ip shardbridge_nat {',
        '  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }',
        '}',
        '',
      ].join('\n'),
    );
  } catch (error) {
    teardown(names);
    throw error;
  }
  return new SpawnedNatNetwork(names, uplink, internal.inside);
}

class SpawnedNatNetwork implements NatNetwork {
  readonly inside: string;
  readonly router: string;
  readonly internalSubnet: string;
  readonly routerHost: string;
  readonly hostAddress: string;
  #stopped = false;

  constructor(
    readonly names: NetworkNames,
    uplink: { host: string; router: string },
    readonly internalHost: string,
  ) {
    this.routerHost = uplink.router;
    this.hostAddress = uplink.host;
    this.inside = names.inside;
    this.router = names.router;
    this.internalSubnet = names.internalSubnet;
  }

  async forward(port: number, portOffset: number): Promise<number> {
    const published = port + portOffset;
    if (published < 1 || published > 65535) {
      throw new NetnsError(`port ${port} + offset ${portOffset} is outside 1..65535`, 'bad port offset');
    }
    await runCommand('ip', [
      'netns',
      'exec',
      this.router,
      'nft',
      'add',
      'rule',
      'ip',
      'shardbridge_nat',
      'prerouting',
      'ip',
      'daddr',
      this.routerHost,
      'tcp',
      'dport',
      String(published),
      'dnat',
      'to',
      `${this.internalHost}:${port}`,
    ]);
    return published;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    teardown(this.names);
  }
}

/**
 * Synchronous so the same code serves stop() and the process 'exit' hook. Processes still inside are killed
 * first: a namespace with members outlives `ip netns del`, and with it the veths and their addresses.
 */
function teardown(names: NetworkNames): void {
  for (const ns of [names.inside, names.router]) {
    for (const pid of runCommandSync('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  runCommandSync('ip', ['route', 'del', 'unreachable', names.internalSubnet]);
  runCommandSync('ip', ['link', 'del', names.hostLink]);
  runCommandSync('ip', ['netns', 'del', names.inside]);
  runCommandSync('ip', ['netns', 'del', names.router]);
  live.delete(names);
  if (names.slot !== undefined) reservedSlots.delete(names.slot);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const names of [...live]) teardown(names);
  });
}

/**
 * Removes networks left by a process that died without its exit hook (SIGKILL): their namespace names carry
 * the pid, and a pid that no longer exists cannot be using them.
 */
async function sweepStaleNetworks(): Promise<void> {
  const listing = await runCommand('ip', ['netns', 'list']);
  for (const match of listing.matchAll(/^sbnat-(\d+)-(\d+)-router\b/gm)) {
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const router = match[0];
    const inside = router.replace(/-router$/, '-inside');
    const hostLink = await hostLinkOf(router);
    const subnet = await insideSubnet(inside);
    teardown({ router, inside, hostLink: hostLink ?? '', internalSubnet: subnet ?? '' });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The host end of a stale router's uplink veth (its peer's interface index names it). */
async function hostLinkOf(router: string): Promise<string | undefined> {
  const link = await runCommand('ip', ['-n', router, '-o', 'link', 'show', 'uplink']).catch(() => '');
  const peerIndex = /uplink@if(\d+)/.exec(link)?.[1];
  if (!peerIndex) return undefined;
  const hostLinks = await runCommand('ip', ['-o', 'link', 'show']);
  return new RegExp(`^${peerIndex}: ([^:@]+)`, 'm').exec(hostLinks)?.[1];
}

async function insideSubnet(inside: string): Promise<string | undefined> {
  const addr = await runCommand('ip', ['-n', inside, '-o', '-4', 'addr', 'show', 'eth0']).catch(() => '');
  const host = /inet (10\.252\.(\d+))\.\d+\/24/.exec(addr);
  return host ? `${host[1]}.0/24` : undefined;
}

/**
 * Picks a free slot and adds its `unreachable` route at once: the route doubles as a reservation other processes
 * see, and adding it fails (`File exists`) when another process claimed the same slot since it was picked.
 */
async function claimSlot(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const slot = await freeSlot();
    try {
      await runCommand('ip', ['route', 'add', 'unreachable', `10.252.${slot}.0/24`]);
      return slot;
    } catch (error) {
      // A slot lost to another process stays reserved here, so the next pick skips it.
      if (attempt < 5 && error instanceof NetnsError && /file exists/i.test(error.message)) continue;
      reservedSlots.delete(slot);
      throw error;
    }
  }
}

/**
 * A third octet `s` such that neither 10.252.s.0/24 nor 10.253.s.0/30 overlaps any route or address of this
 * host (other tests' networks included) and no start in this process still reserves, beginning at one derived
 * from the pid. The caller releases it through teardown().
 */
async function freeSlot(): Promise<number> {
  const used = [
    ...(await runCommand('ip', ['-4', 'route', 'show', 'table', 'all'])).matchAll(
      /(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?(?=\s)/gm,
    ),
  ].map((match) => ({ base: toInt(match[1]), bits: match[2] === undefined ? 32 : Number(match[2]) }));
  const start = process.pid % 250;
  for (let i = 0; i < 250; i++) {
    const slot = (start + i) % 250;
    const wanted = [
      { base: toInt(`10.252.${slot}.0`), bits: 24 },
      { base: toInt(`10.253.${slot}.0`), bits: 30 },
    ];
    if (reservedSlots.has(slot) || wanted.some((net) => used.some((route) => overlaps(net, route)))) continue;
    reservedSlots.add(slot);
    return slot;
  }
  throw new NetnsError('no free 10.252.x.0/24 + 10.253.x.0/30 pair on this host', 'no free private subnet');
}

function toInt(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Two prefixes overlap when they agree on the shorter one's bits. */
function overlaps(a: { base: number; bits: number }, b: { base: number; bits: number }): boolean {
  const bits = Math.min(a.bits, b.bits);
  if (bits === 0) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}
