// `host:port` peer addresses, as written in CLUSTERS and in membership
// changes: one parser so the two accept exactly the same forms.

export interface HostPort {
  /** As written (IPv6 keeps its brackets, so `http://${host}:${port}` works). */
  readonly host: string
  readonly port: number
}

// Hostnames, IPv4, and bracketed IPv6; anything else cannot be put in a URL safely.
export const HOST_PATTERN = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/
export const NODE_ID_RULE = '1-64 characters of A-Z a-z 0-9 _ . -'

/** The address, or a short reason why `text` is not `host:port`. */
export function parseHostPort(text: string): HostPort | string {
  const colon = text.lastIndexOf(':')
  if (colon < 1) return 'must look like host:port'
  const host = text.slice(0, colon)
  const portText = text.slice(colon + 1)
  if (!HOST_PATTERN.test(host)) return 'host must be a hostname, IPv4 address or [IPv6] address'
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) return 'port must be an integer 1..65535'
  return { host, port: Number(portText) }
}

export function formatHostPort(a: HostPort): string {
  return `${a.host}:${a.port}`
}
