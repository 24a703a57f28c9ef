import { randomUUID } from 'node:crypto';
import type { FaultProxy, ProxyDoor } from '../../support/fault-proxy';
import type { AwsStack } from './aws-stack';
import { FunctionTimeoutError, type LoadedFunction, loadFunction } from './lambda';

/** One invocation as Lambda ran it, for the deadline assertions. */
export interface Invocation {
  functionName: string;
  sandbox: string;
  startedAt: number;
  endedAt: number;
  /** The budget the context counted down from. */
  timeoutMs: number;
  outcome: 'answered' | 'error' | 'timeout';
  /** The HTTP status it answered (API Gateway events), if any. */
  status?: number;
}

export interface FaultSandboxes {
  /** Every invocation since the last `recycle`. */
  invocations: Invocation[];
  /** Sets the budget (seconds) the context of `functionName` counts down from; the template's when unset. */
  setTimeout(functionName: string, seconds: number | undefined): void;
  /** Kills every sandbox (their held and hung calls are dropped): the next invocation starts cold. */
  recycle(): Promise<void>;
}

interface Sandbox {
  name: string;
  door: ProxyDoor;
  loaded: LoadedFunction;
}

const ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
];

/**
 * Replaces the stack's functions with ones that run as Lambda runs them under faults. Each
 * sandbox (a fresh import of the bundle) calls AWS through its own door of the proxy; between
 * invocations the door is frozen, so work a handler left running after it answered goes nowhere.
 * A sandbox is reused only after an invocation that ended cleanly with nothing in flight; any
 * other sandbox is retired frozen and never thawed, the legal schedule in which Lambda routes
 * the retry elsewhere and reaps the old sandbox; one that timed out is killed, as Lambda does.
 * So a product passes only if it never relies on work left running after its answer.
 */
export function sandboxFunctions(stack: AwsStack, proxy: FaultProxy): FaultSandboxes {
  const invocations: Invocation[] = [];
  const timeouts = new Map<string, number>();
  const warm = new Map<string, Sandbox>();
  const retired: Sandbox[] = [];
  let count = 0;

  for (const [functionName, original] of Object.entries(stack.functions)) {
    const start = async (): Promise<Sandbox> => {
      count += 1;
      const name = `${functionName}-${count}`;
      const door = await proxy.door(name);
      const endpoints = Object.fromEntries(ENDPOINT_VARIABLES.map((v) => [v, door.endpoint]));
      // Queue URLs name moto's host, and the SDK's SQS client sends to a queue URL's host rather
      // than the configured endpoint (issue 12): name the door instead, so every call passes it.
      const environment = Object.fromEntries(
        Object.entries(original.environment).map(([k, v]) => [
          k,
          v.replace(stack.moto.endpoint, door.endpoint),
        ]),
      );
      const loaded = await loadFunction(
        original.definition,
        original.physicalName,
        {
          ...environment,
          ...endpoints,
          POWERTOOLS_LOG_LEVEL: process.env.HOOKGATE_FAULT_LOGS ? 'INFO' : 'SILENT',
        },
        `${name}-${randomUUID()}`,
      );
      return { name, door, loaded };
    };
    stack.functions[functionName] = {
      ...original,
      async invoke(event, options = {}) {
        const timeoutSeconds =
          options.timeoutSeconds ?? timeouts.get(functionName) ?? original.definition.timeoutSeconds;
        const sandbox = warm.get(functionName) ?? (await start());
        warm.delete(functionName);
        // The SDK reads its endpoint at a client's first call, which happens inside an invocation.
        const saved = ENDPOINT_VARIABLES.map((v) => [v, process.env[v]] as const);
        for (const v of ENDPOINT_VARIABLES) process.env[v] = sandbox.door.endpoint;
        sandbox.door.thaw();
        const startedAt = Date.now();
        let outcome: Invocation['outcome'] = 'answered';
        let result: unknown;
        try {
          result = await sandbox.loaded.invoke(event, { timeoutSeconds });
          return result;
        } catch (error) {
          outcome = error instanceof FunctionTimeoutError ? 'timeout' : 'error';
          throw error;
        } finally {
          const endedAt = Date.now();
          sandbox.door.freeze();
          for (const [v, value] of saved) {
            if (value === undefined) delete process.env[v];
            else process.env[v] = value;
          }
          const status = statusOf(result);
          invocations.push({
            functionName,
            sandbox: sandbox.name,
            startedAt,
            endedAt,
            timeoutMs: timeoutSeconds * 1000,
            outcome,
            ...(status === undefined ? {} : { status }),
          });
          const inFlight = proxy.calls().some((c) => c.door === sandbox.name && c.endedAt === undefined);
          if (outcome === 'timeout') await sandbox.door.close();
          else if (outcome === 'answered' && !failed(result) && !inFlight && sandbox.door.holding() === 0) {
            warm.set(functionName, sandbox);
          } else retired.push(sandbox);
        }
      },
    };
  }

  return {
    invocations,
    setTimeout(functionName, seconds) {
      if (seconds === undefined) timeouts.delete(functionName);
      else timeouts.set(functionName, seconds);
    },
    async recycle() {
      const all = [...warm.values(), ...retired.splice(0)];
      warm.clear();
      await Promise.all(all.map((sandbox) => sandbox.door.close()));
      invocations.length = 0;
    },
  };
}

function statusOf(result: unknown): number | undefined {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    return Number((result as { statusCode: unknown }).statusCode);
  }
  return undefined;
}

/** A 5xx answer or an SQS batch with failures: the handler may have left work behind. */
function failed(result: unknown): boolean {
  const status = statusOf(result);
  if (status !== undefined && status >= 500) return true;
  const failures = (result as { batchItemFailures?: unknown[] } | null)?.batchItemFailures;
  return Array.isArray(failures) && failures.length > 0;
}
