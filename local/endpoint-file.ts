import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file';

/** Where the running local stack listens; `hookgate send` reads it for its default URL. */
export interface EndpointInfo {
  webhookUrl: string;
  pid: number;
  startedAt: string;
}

export function writeEndpoint(path: string, info: EndpointInfo): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(info, null, 2)}\n`);
}

/** The endpoint the last stack on this data folder wrote, or undefined when there is none. */
export async function readEndpoint(path: string): Promise<EndpointInfo | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const info = JSON.parse(text) as Partial<EndpointInfo>;
    return typeof info.webhookUrl === 'string' ? (info as EndpointInfo) : undefined;
  } catch {
    return undefined;
  }
}
