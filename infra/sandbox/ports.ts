import { once } from 'node:events';
import type { Server } from 'node:http';
import { createServer } from 'node:net';

/** A port someone else holds; the message names the flag that picks another. */
export class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
  constructor(
    readonly port: number,
    readonly flag: string,
  ) {
    super(`Port ${port} is already in use; choose another with ${flag} <port> (${flag} 0 picks a free one)`);
  }
}

/** Listens on `host:port`; rejects with {@link PortTakenError} when the port is taken. */
export async function listen(server: Server, port: number, host: string, flag: string): Promise<number> {
  server.listen(port, host);
  try {
    // `once` rejects when the server emits 'error' first (EADDRINUSE, EACCES).
    await once(server, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortTakenError(port, flag);
    throw error;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The server has no TCP address');
  return address.port;
}

/** Rejects with {@link PortTakenError} if `port` cannot be bound now (on any interface, as Java binds it). */
export async function ensurePortFree(port: number, flag: string): Promise<void> {
  const probe = createServer();
  probe.listen(port);
  try {
    await once(probe, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortTakenError(port, flag);
    throw error;
  }
  probe.close();
  await once(probe, 'close');
}
