import { ADMIN_TOKEN_SECRET_ID } from '../../local/bootstrap';
import { DEFAULT_DATA_DIR, dataDirOf } from '../../local/data-dir';
import { readEndpoint } from '../../local/endpoint-file';
import { FileSecretStore } from '../../local/file-secret-store';
import {
  AdminClient,
  bearerSigner,
  isLoopback,
  regionOfEndpoint,
  type Signer,
  sigV4Signer,
} from '../admin-client';
import { UsageError } from '../errors';
import { nonEmpty, str, type Values } from './verb';

const LOCAL_ENDPOINT = 'http://127.0.0.1:3000';

/**
 * Test seams: the fetch and signer to use instead of the network and the credential chain, and
 * the terminal a confirmation is asked in instead of the process's own.
 */
export interface AdminDeps {
  fetch?: typeof fetch;
  signer?: Signer;
  terminal?: Terminal;
}

/** Where a question is asked: only when a person is there to answer it. */
export interface Terminal {
  interactive: boolean;
  /** Asks and resolves with the answer line. */
  ask(question: string): Promise<string>;
}

/** No admin token was given or saved: no local stack has run on the data folder. */
export class NoAdminTokenError extends UsageError {
  override name = 'NoAdminTokenError';
}

/** Where to send requests and how to authenticate them, from the options, env and data folder. */
export async function connect(
  values: Values,
  deps: AdminDeps,
): Promise<{ client: AdminClient; endpoint: string }> {
  const dir = dataDirOf(str(values, 'data-dir') ?? DEFAULT_DATA_DIR);
  const endpoint =
    str(values, 'endpoint') ??
    nonEmpty(process.env.HOOKGATE_ENDPOINT) ??
    originOf((await readEndpoint(dir.endpoint))?.webhookUrl) ??
    LOCAL_ENDPOINT;
  if (!/^https?:\/\/[^/]/.test(endpoint) || !URL.canParse(endpoint)) {
    throw new UsageError(`--endpoint must be an http(s) URL, not "${endpoint}"`);
  }
  const given = str(values, 'token') ?? nonEmpty(process.env.HOOKGATE_ADMIN_TOKEN);
  const auth = str(values, 'auth') ?? (given || isLoopback(endpoint) ? 'token' : 'iam');
  if (auth !== 'iam' && auth !== 'token') throw new UsageError(`--auth must be iam or token, not "${auth}"`);

  if (deps.signer) return { client: new AdminClient(endpoint, deps.signer, deps.fetch), endpoint };
  if (auth === 'token') {
    const token =
      given ??
      (isLoopback(endpoint) ? await new FileSecretStore(dir.secrets).get(ADMIN_TOKEN_SECRET_ID) : undefined);
    if (!token) {
      throw new NoAdminTokenError(
        `no admin token: pass --token (the one \`hookgate dev\` prints) or set HOOKGATE_ADMIN_TOKEN${isLoopback(endpoint) ? `; none is saved in ${dir.root}` : ''}`,
      );
    }
    return { client: new AdminClient(endpoint, bearerSigner(token), deps.fetch), endpoint };
  }
  // The execute-api host names the API's own region, which a profile's AWS_REGION may not be.
  const region =
    str(values, 'region') ??
    regionOfEndpoint(endpoint) ??
    nonEmpty(process.env.AWS_REGION) ??
    nonEmpty(process.env.AWS_DEFAULT_REGION);
  if (!region) {
    throw new UsageError('cannot tell the region to sign for: pass --region or set AWS_REGION');
  }
  return { client: new AdminClient(endpoint, await sigV4Signer({ region }), deps.fetch), endpoint };
}

function originOf(url: string | undefined): string | undefined {
  return url && URL.canParse(url) ? new URL(url).origin : undefined;
}
