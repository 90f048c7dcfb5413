import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The AWS Query protocol as the stand-ins for CloudFormation and STS speak it: a form-encoded POST naming its
 * `Action`, an XML answer, and errors as `<ErrorResponse>` — what the real SDK clients send and parse.
 */

/** The request's form; its `Action` says which call it is. */
export async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function sendXml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}

/** A client error (`Sender`) with the service's error code, which the SDK turns into the exception of that name. */
export function sendQueryError(
  response: ServerResponse,
  namespace: string,
  status: number,
  code: string,
  message: string,
): void {
  sendXml(
    response,
    status,
    `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${escapeXml(code)}</Code>` +
      `<Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
