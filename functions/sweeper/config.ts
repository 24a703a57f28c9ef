import {
  awsJsonConnections,
  awsJsonEnvironment,
  credentialsFromEnvironment,
  parseEnvironment,
  requiredVariable,
} from '../../shared/config';

/** What the stack sets for the sweeper (infra/functions.ts), and where AWS is. */
export const SweeperEnvironmentSchema = awsJsonEnvironment({
  TABLE_NAME: requiredVariable,
  DELIVERIES_QUEUE_URL: requiredVariable,
});

const env = parseEnvironment(SweeperEnvironmentSchema, process.env);

/** The sweeper function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  deliveriesQueueUrl: env.DELIVERIES_QUEUE_URL,
  /** DynamoDB and SQS through AwsJsonClient. */
  // Credentials are read at every signing, not here: see awsJsonConnections.
  aws: awsJsonConnections(env, () => credentialsFromEnvironment(process.env)),
};
