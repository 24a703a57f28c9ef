/**
 * Integration names: the last segment of the webhook URL, so a DNS-label-like slug (at most 63
 * characters). The admin API refuses other names, and the webhook answers 404 to them before any
 * lookup, so no key built from a name can exceed DynamoDB's key limits.
 */
export const INTEGRATION_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
