import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readWebhookSecret } from '../local/bootstrap';
import { DEFAULT_DATA_DIR, dataDirOf } from '../local/data-dir';
import { readEndpoint } from '../local/endpoint-file';
import { FileSecretStore } from '../local/file-secret-store';
import { inferProvider } from '../shared/bitbucket/event-keys';
import { signBody } from '../shared/bitbucket/signature';
import type { Provider } from '../shared/domain/events';
import { CommandFailedError, UsageError } from './errors';

export const SEND_USAGE = `usage: hookgate send <payload.json> --event-key <key> [--url <url>] [--secret <secret>]
    [--data-dir <dir>] [--delivery-id <id>]
    --url and --secret default to the local stack's (\`hookgate dev\`) found in --data-dir (${DEFAULT_DATA_DIR})
    sent with the headers of the Bitbucket that sends the event key (or, when the key does not
    tell, the body): Cloud's X-Request-UUID or Data Center's X-Request-Id (--delivery-id)`;

/** A Data Center webhook's user agent, as captured (docs: reference/bitbucket-protocol.md §2.2). */
const DATA_CENTER_USER_AGENT = 'Atlassian HttpClient 4.2.0 / Bitbucket-9.5.2 (9005002) / Default';

/**
 * `hookgate send`: posts a payload file exactly as Bitbucket would, signed with the webhook
 * secret, and prints the answer. Exit 0 on 2xx, 1 otherwise, 2 on usage errors.
 */
export async function runSend(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'event-key': { type: 'string' },
      url: { type: 'string' },
      secret: { type: 'string' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      'delivery-id': { type: 'string' },
    },
  });
  const [payloadPath, ...extra] = positionals;
  if (!payloadPath) {
    throw new UsageError(
      'missing the payload file: hookgate send <payload.json> --event-key <key> (see --help)',
    );
  }
  if (extra.length > 0) throw new UsageError(`one payload file at a time; also got ${extra.join(' ')}`);
  const eventKey = values['event-key'];
  if (!eventKey) {
    throw new UsageError(
      'missing --event-key: the event to send the payload as, e.g. repo:push (Bitbucket Cloud) or repo:refs_changed (Data Center)',
    );
  }
  const { bytes: body, json } = await readPayload(payloadPath);
  const dir = dataDirOf(values['data-dir']);
  const url = values.url ?? (await readEndpoint(dir.endpoint))?.webhookUrl;
  if (!url) {
    throw new UsageError(
      `no --url given and no local stack found in ${dir.root} (start \`hookgate dev\` or pass --url)`,
    );
  }
  const secret = values.secret ?? (await readWebhookSecret(new FileSecretStore(dir.secrets)))?.current;
  if (!secret) {
    throw new UsageError(
      `no --secret given and no webhook secret stored in ${dir.root} (start \`hookgate dev\` or pass --secret)`,
    );
  }

  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: webhookHeaders(inferProvider(eventKey, json) ?? 'bitbucket-cloud', {
        eventKey,
        deliveryId: values['delivery-id'] ?? randomUUID(),
        signature: signBody(body, secret),
      }),
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CommandFailedError(`cannot reach ${url}: ${reasonOf(error)}`, { cause: error });
  }
  const text = await response.text();
  out(`${response.status} ${response.statusText}\n`);
  if (text) out(`${pretty(text)}\n`);
  // The answer is printed above; the exit code alone says it was not a 2xx.
  if (!response.ok) throw new CommandFailedError('');
}

/**
 * The headers each Bitbucket sends with a delivery (reference/bitbucket-protocol.md §1.2, §2.2):
 * Cloud's request UUID, attempt number and user agent; Data Center's request id and its own user
 * agent, with neither of Cloud's.
 */
export function webhookHeaders(
  provider: Provider,
  delivery: { eventKey: string; deliveryId: string; signature: string },
): Record<string, string> {
  if (provider === 'bitbucket-data-center') {
    return {
      'Content-Type': 'application/json; charset=utf-8',
      'User-Agent': DATA_CENTER_USER_AGENT,
      'X-Event-Key': delivery.eventKey,
      'X-Request-Id': delivery.deliveryId,
      'X-Hub-Signature': delivery.signature,
    };
  }
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'Bitbucket-Webhooks/2.0',
    'X-Event-Key': delivery.eventKey,
    'X-Request-UUID': delivery.deliveryId,
    'X-Attempt-Number': '1',
    'X-Hub-Signature': delivery.signature,
  };
}

/** The exact bytes of the payload file (they are what gets signed), checked to be JSON. */
async function readPayload(path: string): Promise<{ bytes: Buffer; json: unknown }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read payload file ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
  try {
    return { bytes, json: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    throw new UsageError(`payload file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is `hookgate dev` running?)';
  if ((error as Error)?.name === 'TimeoutError') return 'no answer within 30 s';
  return cause?.message ?? (error as Error)?.message ?? String(error);
}
