import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Provider } from '../../domain/events';
import { ValidationError } from '../../errors';
import { BitbucketAddressRefusedError } from './errors';

/**
 * Which hosts an integration's base URL may name (issue 13, SSRF). `aws`: no loopback, link-local
 * or metadata host (the credential would be sent to the function's own host or the instance
 * metadata service); private ranges stay allowed, Data Center lives there. `local`: loopback is
 * allowed too (a Data Center on the same laptop, the tests' fake servers), the rest is refused.
 */
export type NetworkPolicy = 'aws' | 'local';

/** Hosts that resolve to a cloud metadata service in the environment that knows them. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

/** AWS IMDS and the ECS/EKS credential endpoints (IPv4 and IPv6), Alibaba's metadata address. */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  '100.100.100.200',
  'fd00:ec2:0:0:0:0:0:254',
  'fd00:ec2:0:0:0:0:0:23',
]);

/**
 * Why `host` (a URL hostname, a DNS name or an address in any spelling the URL parser
 * normalises) may not be called under `policy`, or undefined when it may.
 */
export function forbiddenHostReason(host: string, policy: NetworkPolicy): string | undefined {
  const name = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '');
  if (isIP(name)) return forbiddenAddressReason(name, policy);
  if (METADATA_NAMES.has(name)) return 'a cloud metadata host';
  if (policy === 'aws' && (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost'))) {
    return 'a loopback host';
  }
  return undefined;
}

/** Why an IP address may not be called under `policy`, or undefined when it may. */
export function forbiddenAddressReason(address: string, policy: NetworkPolicy): string | undefined {
  const v4 = isIP(address) === 4 ? ipv4Bytes(address) : embeddedIpv4(ipv6Words(address));
  if (v4) {
    const canonical = v4.join('.');
    if (METADATA_ADDRESSES.has(canonical)) return 'a cloud metadata address';
    if (v4[0] === 169 && v4[1] === 254) return 'a link-local address';
    // 0.0.0.0/8 reaches this host on Linux: loopback in effect.
    if ((v4[0] === 127 || v4[0] === 0) && policy === 'aws') return 'a loopback address';
    return undefined;
  }
  const words = ipv6Words(address);
  if (!words) return undefined;
  if (METADATA_ADDRESSES.has(words.map((w) => w.toString(16)).join(':'))) return 'a cloud metadata address';
  if ((words[0] as number) >> 6 === 0xfe80 >> 6) return 'a link-local address';
  const zeroUntilLast = words.slice(0, 7).every((w) => w === 0);
  if (zeroUntilLast && (words[7] === 1 || words[7] === 0) && policy === 'aws') return 'a loopback address';
  return undefined;
}

/**
 * The base URL an integration stores: http(s), no credentials, query or fragment, a host the
 * policy allows, no trailing slash; required on Data Center, optional on Cloud. The one check
 * the admin API (create, patch) and the REST clients apply. Throws ValidationError.
 */
export function checkBaseUrl(
  provider: 'bitbucket-data-center',
  value: string | undefined,
  policy: NetworkPolicy,
): string;
export function checkBaseUrl(
  provider: Provider,
  value: string | undefined,
  policy: NetworkPolicy,
): string | undefined;
export function checkBaseUrl(
  provider: Provider,
  value: string | undefined,
  policy: NetworkPolicy,
): string | undefined {
  if (value === undefined || value === '') {
    if (provider === 'bitbucket-data-center') {
      throw new ValidationError(
        'a Bitbucket Data Center integration needs baseUrl, the server root (e.g. https://bitbucket.example.com)',
      );
    }
    return undefined;
  }
  return checkUrl(value, policy);
}

/** `checkBaseUrl` for a URL that is always given (an API root, the OAuth token URL). */
export function checkUrl(value: string, policy: NetworkPolicy): string {
  if (value.length > MAX_BASE_URL_LENGTH) {
    throw new ValidationError(
      `Bitbucket base URL is ${value.length} characters; at most ${MAX_BASE_URL_LENGTH}`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new ValidationError(`invalid Bitbucket base URL "${value}"`, { cause: error });
  }
  const refused = forbiddenHostReason(url.hostname, policy);
  const problem =
    url.protocol !== 'https:' && url.protocol !== 'http:'
      ? `be http(s), got "${url.protocol}"`
      : url.username || url.password
        ? 'not contain credentials'
        : url.search || url.hash
          ? 'not have a query or fragment'
          : refused
            ? `not name ${refused} (${url.hostname})`
            : undefined;
  if (problem) throw new ValidationError(`Bitbucket base URL must ${problem}`);
  return value.replace(/\/+$/, '');
}

/** Longer than any server root; keeps the integration item small. */
export const MAX_BASE_URL_LENGTH = 2_048;

/** Resolves a host name to its addresses (all of them); replaceable in tests. */
export type HostLookup = (hostname: string) => Promise<string[]>;

/** `dns.lookup` with every address, as the connection itself would resolve the name. */
export const systemLookup: HostLookup = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * Checks, just before a request, that `hostname` does not resolve to an address the policy
 * refuses (a DNS name pointing at 127.0.0.1 or the metadata service). A name that does not
 * resolve is left to the request to fail. Throws BitbucketAddressRefusedError.
 */
export async function checkResolvedHost(
  hostname: string,
  policy: NetworkPolicy,
  resolve: HostLookup,
  call: { method: string; path: string },
): Promise<void> {
  const refuse = (reason: string) =>
    new BitbucketAddressRefusedError(`the Bitbucket host ${hostname} is ${reason}; not called`, call);
  const direct = forbiddenHostReason(hostname, policy);
  if (direct) throw refuse(direct);
  if (isIP(hostname.replace(/^\[(.*)\]$/, '$1'))) return;
  let addresses: string[];
  try {
    addresses = await resolve(hostname);
  } catch {
    return;
  }
  for (const address of addresses) {
    const reason = forbiddenAddressReason(address, policy);
    if (reason) throw refuse(`resolves to ${reason} (${address})`);
  }
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The eight 16-bit words of an IPv6 address (with or without a dotted IPv4 tail). */
function ipv6Words(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const [a, b, c, d] = ipv4Bytes(dotted) as [number, number, number, number];
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parts = (part: string) => (part ? part.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<number>(Math.max(0, missing)).fill(0), ...right];
}

/**
 * The IPv4 address an IPv6 address carries and reaches: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d).
 */
function embeddedIpv4(words: number[] | undefined): number[] | undefined {
  if (!words) return undefined;
  const prefix = words.slice(0, 6).join(':');
  const carries =
    prefix === '0:0:0:0:0:65535' ||
    prefix === '100:65435:0:0:0:0' ||
    (prefix === '0:0:0:0:0:0' && (words[6] as number) !== 0);
  if (!carries) return undefined;
  const [high, low] = [words[6] as number, words[7] as number];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff];
}
