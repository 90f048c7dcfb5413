import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stand-in's HTTP server on 127.0.0.1. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops listening and drops every connection, idle keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * Serves `handle` on loopback (`port` 0: any free one). A handler that throws gets `onError`'s answer when nothing
 * was sent yet, so a bug in a stand-in shows as the service's own 500 rather than a hung client.
 */
export async function serveOnLoopback(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  onError: (response: ServerResponse) => void,
  port = 0,
): Promise<LoopbackServer> {
  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) onError(response);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      const closed = once(server, 'close');
      server.close();
      // The SDK keeps connections alive; without this close() would wait for them to idle out.
      server.closeAllConnections();
      await closed;
    },
  };
}
