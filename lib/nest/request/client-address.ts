import { isIPv6 } from 'node:net';

/** The default IPv6 prefix length clients are grouped by. */
export const DEFAULT_IPV6_PREFIX = 64;

/**
 * The rate-limit key of a client address. IPv4-mapped IPv6 addresses (`::ffff:203.0.113.7`, `::ffff:cb00:7107`)
 * become plain IPv4, and IPv6 addresses are grouped by their first `ipv6Prefix` bits (default /64): one subscriber
 * usually holds a whole /64, so per-address limits would be trivial to dodge.
 */
export function clientAddressKey(address: string | undefined, ipv6Prefix = DEFAULT_IPV6_PREFIX): string {
  if (!address) return 'unknown';
  if (!address.includes(':')) return address; // IPv4, the common case: no parsing
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const high = groups[6];
    const low = groups[7];
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  const shown = Math.ceil(ipv6Prefix / 16);
  const masked = groups.slice(0, shown).map((group, index) => {
    const bits = Math.min(16, ipv6Prefix - index * 16);
    return (group & ((0xffff << (16 - bits)) & 0xffff)).toString(16);
  });
  return `${masked.join(':')}${shown < 8 ? '::' : ''}/${ipv6Prefix}`;
}

/** The eight 16-bit groups of a valid IPv6 address (zone index dropped, a dotted IPv4 tail as two groups). */
function expandIPv6(address: string): number[] {
  const zone = address.indexOf('%');
  const bare = zone < 0 ? address : address.slice(0, zone);
  const [head = '', tail] = bare.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
