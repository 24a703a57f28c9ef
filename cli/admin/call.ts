import {
  AdminApiError,
  type AdminClient,
  AdminConnectionError,
  type AdminRequest,
  type AdminResponse,
} from '../admin-client';
import { CommandFailedError } from '../errors';

/** API routes a message may name, and the command that does the same. */
const ROUTE_COMMANDS: readonly (readonly [RegExp, string])[] = [
  [/\bGET \/admin\/projects\/([^/\s]+)\/health\b/g, '`hookgate admin projects health $1`'],
  [/\bPOST \/admin\/projects\/([^/\s]+)\/repair\b/g, '`hookgate admin projects repair $1`'],
  [
    /\bPOST \/admin\/integrations\/([^/\s]+)\/rotate-secret\b/g,
    '`hookgate admin integrations rotate-secret $1`',
  ],
  [/\badd \?integration=/g, 'add --integration <name>'],
];

/**
 * A message of the admin API in the words of the command line: the routes it names as the
 * commands that call them, and the API fields in `flags` as their options. A camelCase field is
 * replaced wherever it stands; a plain word (`limit`) only where a field is named, at the start of
 * the message or of one of its problems, so that ordinary words stay.
 */
export function inCliTerms(message: string, flags: Record<string, string> = {}): string {
  let text = message;
  for (const [route, command] of ROUTE_COMMANDS) text = text.replace(route, command);
  for (const [field, flag] of Object.entries(flags)) {
    const camel = /[A-Z]/.test(field);
    const pattern = camel ? new RegExp(`\\b${field}\\b`, 'g') : new RegExp(`(^|: |; )${field}(?=[.: ])`, 'g');
    text = camel ? text.replace(pattern, flag) : text.replace(pattern, `$1${flag}`);
  }
  return text;
}

/**
 * Sends one request to the admin API. Throws CommandFailedError (exit 1) with one line when the
 * API refuses (`404 not-found: …`, in the CLI's terms: see inCliTerms) or cannot be reached.
 */
export async function send(
  client: AdminClient,
  request: AdminRequest,
  flags?: Record<string, string>,
): Promise<AdminResponse> {
  try {
    return await client.request(request);
  } catch (error) {
    if (error instanceof AdminApiError) {
      throw new CommandFailedError(`${error.status} ${error.code}: ${inCliTerms(error.message, flags)}`, {
        cause: error,
      });
    }
    if (error instanceof AdminConnectionError) throw new CommandFailedError(error.message, { cause: error });
    throw error;
  }
}
