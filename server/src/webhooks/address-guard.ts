import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { CreditmeterError } from "@creditmeter/shared";

// Loopback, private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
// benchmarking, multicast and reserved ranges: nothing a public receiver lives at.
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["64:ff9b::", 96],
  ["2001:db8::", 32],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** True for loopback, private, link-local and reserved addresses (IPv4-mapped IPv6 included). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return blocked.check(mapped[1], "ipv4");
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return blocked.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The host of a URL as an address when it is a literal (brackets of IPv6 removed), else null. */
function literalHost(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return isIP(host) ? host : null;
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });
}

/**
 * At creation (CONTRACT §7): in production a URL whose host is, or resolves to, a loopback or
 * private address is a 400 `invalid_input`. Delivery checks again (guardedLookup), since DNS
 * may answer differently later.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const url = new URL(raw);
  const literal = literalHost(url);
  let addresses: string[];
  try {
    addresses = literal ? [literal] : (await resolveAll(url.hostname)).map((a) => a.address);
  } catch {
    throw new CreditmeterError("invalid_input", `invalid_input: url: ${url.hostname} does not resolve`, "url");
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new CreditmeterError("invalid_input", "invalid_input: url: resolves to a loopback or private address (CREDITMETER_WEBHOOK_ALLOW_PRIVATE)", "url");
  }
}

/** The error a delivery fails with when its host resolves to an address the guard refuses. */
export class BlockedAddressError extends Error {
  readonly code = "blocked_address";
}

/**
 * A `lookup` for http.request that refuses private addresses: the check applies to the very
 * addresses the socket connects to, so a DNS answer that changes between the check and the
 * connection (rebinding) cannot slip through.
 */
export function guardedLookup(): LookupFunction {
  return function lookupPublicOnly(hostname, options, callback) {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 4);
      const list = Array.isArray(addresses) ? addresses : [];
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad || list.length === 0) return callback(new BlockedAddressError(`${hostname} resolves to ${bad?.address ?? "nothing"}`), "", 4);
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(new BlockedAddressError(`${hostname} resolves to nothing`), "", 4);
      callback(null, first.address, first.family);
    });
  };
}

/** Delivery-time check of a literal host (lookup is not consulted for literals). */
export function literalIsBlocked(url: URL): boolean {
  const literal = literalHost(url);
  return literal !== null && isPrivateAddress(literal);
}
