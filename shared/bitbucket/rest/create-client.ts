import type { Provider } from '../../domain/events';
import { ValidationError } from '../../errors';
import type { BitbucketClient, ClientOptions } from './client';
import { createCloudClient } from './cloud-client';
import { createDataCenterClient } from './data-center-client';

/**
 * The client for an integration's provider. `baseUrl` is optional on Cloud and required on
 * Data Center (the server root). Throws ValidationError for a missing DC base URL, credentials
 * of the other platform or an unusable base URL.
 */
export function createBitbucketClient(
  provider: Provider,
  options: ClientOptions & { baseUrl?: string },
): BitbucketClient {
  if (provider === 'bitbucket-cloud') return createCloudClient(options);
  const { baseUrl, tokenUrl: _ignored, ...rest } = options;
  if (!baseUrl) throw new ValidationError('a Bitbucket Data Center integration needs its base URL');
  return createDataCenterClient({ ...rest, baseUrl });
}
