import { isIPv4, isIPv6 } from 'node:net'

/**
 * The network a client address is counted under: an IPv4 address as itself (IPv4-mapped IPv6
 * too), an IPv6 address as its /64, the smallest block a host is normally given, so that
 * rotating through one's own /64 does not buy fresh attempts. Pure; never throws.
 */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped) return mapped[1]!
  const address = ip.split('%')[0]!
  if (isIPv4(address) || !isIPv6(address)) return address
  const [head, tail] = address.split('::')
  // A trailing dotted IPv4 part fills the last two groups, never the first four.
  const groups = (s: string | undefined) => (s ? s.split(':').flatMap(g => (g.includes('.') ? ['0', '0'] : [g])) : [])
  const headGroups = groups(head)
  const tailGroups = groups(tail)
  const full = tail === undefined
    ? headGroups
    : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  return full.slice(0, 4).map(g => parseInt(g, 16).toString(16)).join(':') + '::/64'
}
