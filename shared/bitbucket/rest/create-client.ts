import type { Provider } from '../../domain/events';
import type { BitbucketClient, ClientOptions } from './client';
import { createCloudClient } from './cloud-client';
import { createDataCenterClient } from './data-center-client';

/**
 * The client for an integration's provider. `baseUrl` is optional on Cloud and required on
 * Data Center (the server root); both are checked where the connection is made
 * (`checkBaseUrl`). Throws ValidationError for a missing DC base URL, credentials of the other
 * platform or an unusable base URL.
 */
export function createBitbucketClient(
  provider: Provider,
  options: ClientOptions & { baseUrl?: string },
): BitbucketClient {
  return provider === 'bitbucket-cloud' ? createCloudClient(options) : createDataCenterClient(options);
}
