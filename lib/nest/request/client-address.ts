import { isIPv6 } from 'node:net';

/**
 * The rate-limit key of a client address. IPv4-mapped IPv6 addresses become plain IPv4, and IPv6 addresses are
 * grouped by their /64 prefix: one subscriber usually holds a whole /64, so per-address limits would be trivial to
 * dodge.
 */
export function clientAddressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  if (!address.includes(':')) return address; // IPv4, the common case: no parsing
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) =>
    group.toLowerCase().replace(/^0+(?=.)/, ''),
  );
}
