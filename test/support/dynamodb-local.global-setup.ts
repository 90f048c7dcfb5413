import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local';

/**
 * Starts one DynamoDB Local for the whole run (Java takes ~3 s to start; once per file would dominate the run)
 * and hands its endpoint to test files through `inject('dynamodbEndpoint')`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamodb = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  return () => dynamodb.stop();
}
