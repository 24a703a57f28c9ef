import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/** `sha256=<lowercase hex>` HMAC-SHA256 of the exact body bytes, as Bitbucket signs them. */
export function signBody(rawBody: Uint8Array | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/**
 * Checks an `X-Hub-Signature` header against the raw body with each candidate secret (the
 * current one and, during rotation, the previous). Constant-time per comparison; returns false
 * for a missing or malformed header and never throws.
 * https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks
 */
export function verifySignature(
  rawBody: Uint8Array | string,
  header: string | undefined,
  secrets: readonly string[],
): boolean {
  const match = header ? SIGNATURE.exec(header.trim()) : null;
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  let valid = false;
  // Every secret is tried even after a match so timing does not tell which one matched.
  for (const secret of secrets) {
    if (!secret) continue;
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}
