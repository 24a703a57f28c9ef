import { createHash, createHmac } from 'node:crypto';

/** AWS credentials as Lambda gives them to a function (environment variables). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  url: URL;
  /** Header names in lower case. `host` and the `x-amz-*` signing headers are added. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Signs a POST to the root path with AWS Signature Version 4, as the JSON protocols of DynamoDB,
 * SQS and Secrets Manager take it, and returns the headers to send. Every header given is
 * signed. The signing key is derived once per day, region and service (it depends on nothing
 * else), so a warm function spends two SHA-256 and one HMAC per request.
 */
export function signPost(
  request: SignableRequest,
  credentials: AwsCredentials,
  region: string,
  service: string,
  now: Date,
  keys: SigningKeyCache = new SigningKeyCache(),
): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.url.host,
    'x-amz-date': amzDate,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  let canonical = `POST\n${request.url.pathname || '/'}\n\n`;
  for (const name of names) canonical += `${name}:${String(headers[name]).trim().replace(/\s+/g, ' ')}\n`;
  canonical += `\n${signedHeaders}\n${sha256Hex(request.body)}`;
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const signature = createHmac('sha256', keys.key(credentials.secretAccessKey, day, region, service))
    .update(toSign)
    .digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/** Derived signing keys, by secret, day, region and service; only the latest day is kept. */
export class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();

  key(secret: string, day: string, region: string, service: string): Buffer {
    const id = `${day}\n${region}\n${service}\n${secret}`;
    let key = this.keys.get(id);
    if (!key) {
      if (this.keys.size >= 8) this.keys.clear();
      key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
      this.keys.set(id, key);
    }
    return key;
  }
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}
