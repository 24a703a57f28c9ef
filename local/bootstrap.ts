import { randomBytes } from 'node:crypto';
import type { SecretStore } from '../shared/secrets/secrets';
import { secretIds } from '../shared/secrets/secrets';
import { parseWebhookSecretDocument, type WebhookSecretDocument } from '../shared/secrets/webhook-secrets';
import type { IntegrationRecord, Store } from '../shared/store/store';

/** The stage in local secret ids: `hookgate/local/...`. */
export const LOCAL_STAGE = 'local';
/** The integration the local stack creates; its webhook path is `/webhooks/local`. */
export const LOCAL_INTEGRATION = 'local';
export const WEBHOOK_SECRET_ID = secretIds.webhookSecret(LOCAL_STAGE, LOCAL_INTEGRATION);
export const ADMIN_TOKEN_SECRET_ID = `hookgate/${LOCAL_STAGE}/admin-token`;

export interface BootstrapOptions {
  /** Use this webhook secret (stored, replacing an earlier one) instead of the saved or a new one. */
  secret?: string;
  adminToken?: string;
}

export interface Bootstrapped {
  integration: IntegrationRecord;
  secret: string;
  adminToken: string;
  /** The integration was created by this start. */
  created: boolean;
  /** The integration had been deleted (through the admin API) and this start revived it. */
  revived: boolean;
}

/**
 * First start creates the `local` integration with its webhook secret; later starts reuse both.
 * A `local` deleted through the admin API is revived, as creating a deleted name does: same URL,
 * the new secret, the version continued (else the URL printed would answer 410). The secret is
 * stored before the integration, so the integration never exists without one. Throws the store's
 * errors.
 */
export async function bootstrapLocal(
  deps: { store: Store; secrets: SecretStore; now: () => Date },
  options: BootstrapOptions = {},
): Promise<Bootstrapped> {
  const stored = await readWebhookSecret(deps.secrets);
  const secret = options.secret ?? stored?.current ?? generateToken();
  if (stored?.current !== secret) {
    await deps.secrets.put(
      WEBHOOK_SECRET_ID,
      JSON.stringify({ current: secret } satisfies WebhookSecretDocument),
    );
  }

  const storedToken = await deps.secrets.get(ADMIN_TOKEN_SECRET_ID);
  const adminToken = options.adminToken ?? storedToken ?? generateToken();
  if (storedToken !== adminToken) await deps.secrets.put(ADMIN_TOKEN_SECRET_ID, adminToken);

  const at = deps.now().toISOString();
  const existing = await deps.store.getIntegration(LOCAL_INTEGRATION);
  if (existing?.status === 'active') {
    if (existing.scope === 'default') await deps.store.claimDefault(existing.provider, existing.name, at);
    return { integration: existing, secret, adminToken, created: false, revived: false };
  }
  // A record names one platform; local mode reads each delivery as the platform that sent it
  // (see LocalStore), so this one integration serves Cloud and Data Center alike. It is the
  // Cloud default, holding the marker the admin API checks, so creating another default Cloud
  // integration is refused (409) as on AWS; should another have taken the default while `local`
  // was deleted, `local` comes back in a space of its own.
  const isDefault = await deps.store.claimDefault('bitbucket-cloud', LOCAL_INTEGRATION, at);
  const integration: IntegrationRecord = {
    name: LOCAL_INTEGRATION,
    provider: 'bitbucket-cloud',
    scope: isDefault ? 'default' : { space: LOCAL_INTEGRATION },
    labels: ['local'],
    description: 'Created by `hookgate dev`. Accepts Bitbucket Cloud and Data Center deliveries.',
    webhookSecretId: WEBHOOK_SECRET_ID,
    status: 'active',
    version: (existing?.version ?? 0) + 1,
    createdAt: at,
    updatedAt: at,
  };
  await deps.store.putIntegration(integration);
  return { integration, secret, adminToken, created: !existing, revived: Boolean(existing) };
}

/** The stored webhook secret document, or undefined when there is none yet. */
export async function readWebhookSecret(secrets: SecretStore): Promise<WebhookSecretDocument | undefined> {
  const text = await secrets.get(WEBHOOK_SECRET_ID);
  return text === undefined ? undefined : parseWebhookSecretDocument(text);
}

/** 32 URL-safe characters from 24 random bytes. */
function generateToken(): string {
  return randomBytes(24).toString('base64url');
}
