// Types what the global setup provides, so `inject('dynamodbEndpoint')` is a string and a typo fails to compile.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the DynamoDB Local started by the global setup. */
    dynamodbEndpoint: string;
  }
}
