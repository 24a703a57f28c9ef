import { startLocalDynamo } from '../../local/dynamo';

export type { LocalDynamo } from '../../local/dynamo';

/** An in-memory dynalite on a free loopback port, with the SDK and JSON-protocol clients of local mode. */
export const startDynalite = () => startLocalDynamo();
