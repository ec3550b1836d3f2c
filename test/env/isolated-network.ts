// A network namespace joined to the host by one veth pair, for tests that
// cut a server off the network while it keeps running: the namespace's end
// goes down and comes back, the process inside never notices anything but
// silence. Addresses are a /30 of 10.199.0.0/16 that only these two ends use;
// the namespace has no other route, so nothing inside it reaches anything but
// the host's end of the pair.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface IsolatedNetwork {
  /** `ip netns` name. */
  readonly netns: string;
  /** The host's end of the pair (in the host's namespace). */
  readonly hostVeth: string;
  /** The host's address on the pair: servers on the host bind it too, so the namespace can reach them. */
  readonly hostAddress: string;
  /** The address inside the namespace. */
  readonly innerAddress: string;
}

/** The highest /30 tried: 10.199.<slot / 64>.<(slot % 64) * 4>. */
const maxSlot = 255;

function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim()}`, { cause: error });
  }
}

function interfaceExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/**
 * Creates a namespace and its veth pair on the lowest free slot. Creating the
 * namespace is the reservation: of two concurrent callers, `ip netns add`
 * fails for the second, which moves on.
 */
export function createIsolatedNetwork(): IsolatedNetwork {
  const inUse = ip(['-o', '-4', 'addr', 'show']);
  for (let slot = 0; slot <= maxSlot; slot++) {
    const base = `10.199.${Math.floor(slot / 64)}.`;
    const offset = (slot % 64) * 4;
    const network: IsolatedNetwork = {
      netns: `fdiso${slot}`,
      hostVeth: `fdiso${slot}h`,
      hostAddress: `${base}${offset + 1}`,
      innerAddress: `${base}${offset + 2}`,
    };
    if (interfaceExists(network.hostVeth) || existsSync(`/run/netns/${network.netns}`) || inUse.includes(` ${network.hostAddress}/`)) continue;
    try {
      ip(['netns', 'add', network.netns]);
    } catch {
      continue;
    }
    try {
      ip(['link', 'add', network.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', network.netns]);
      ip(['addr', 'add', `${network.hostAddress}/30`, 'dev', network.hostVeth]);
      ip(['link', 'set', network.hostVeth, 'up']);
      ip(['-n', network.netns, 'link', 'set', 'lo', 'up']);
      ip(['-n', network.netns, 'addr', 'add', `${network.innerAddress}/30`, 'dev', 'eth0']);
      ip(['-n', network.netns, 'link', 'set', 'eth0', 'up']);
    } catch (error) {
      deleteIsolatedNetwork(network);
      throw error;
    }
    return network;
  }
  throw new Error(`no free slot for an isolated network: fdiso0…fdiso${maxSlot} all taken`);
}

/**
 * Cuts the link: the namespace's end goes down, so packets either way are
 * dropped without an answer (no reset, no unreachable): established
 * connections hang, new ones time out — a partition, not a crash.
 */
export function cutLink(network: IsolatedNetwork): void {
  ip(['-n', network.netns, 'link', 'set', 'eth0', 'down']);
}

/** Brings the link back; the namespace's address and route return with it. */
export function restoreLink(network: IsolatedNetwork): void {
  ip(['-n', network.netns, 'link', 'set', 'eth0', 'up']);
}

/** Removes the namespace and both ends of the pair; missing pieces are skipped. */
export function deleteIsolatedNetwork(network: IsolatedNetwork): void {
  if (existsSync(`/run/netns/${network.netns}`)) ip(['netns', 'delete', network.netns]);
  if (interfaceExists(network.hostVeth)) {
    try {
      ip(['link', 'delete', network.hostVeth]);
    } catch (error) {
      // The kernel removes it with the namespace's end a moment later.
      if (interfaceExists(network.hostVeth)) throw error;
    }
  }
}
