import type { IntegrationRecord } from '../../shared/store/store';

/**
 * An active default integration record as the admin API would store it (Cloud, named `acme`,
 * created now), with the fields a test cares about given in `overrides`.
 */
export function integrationRecord(
  overrides: Partial<IntegrationRecord> & Pick<IntegrationRecord, 'webhookSecretId'>,
): IntegrationRecord {
  const at = new Date().toISOString();
  return {
    name: 'acme',
    provider: 'bitbucket-cloud',
    scope: 'default',
    labels: [],
    description: '',
    status: 'active',
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}
