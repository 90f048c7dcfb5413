import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OneioEmulator, startOneioEmulator } from '../../infra/local/oneio-emulator';

const CLIENT_ID = 'relay-qa';
// Every character that breaks a hand-built form body: separators, plus, space, percent and non-ASCII.
const CLIENT_SECRET = 'a&b=c+d %é';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

describe('ONEiO emulator', () => {
  let oneio: OneioEmulator;
  let agent: Agent;

  beforeEach(async () => {
    oneio = await startOneioEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    agent = new Agent({ keepAliveTimeout: 10_000 });
  });

  afterEach(async () => {
    await agent.close();
    await oneio.close();
  });

  async function post(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
    const response = await request(url, { method: 'POST', headers, body, dispatcher: agent });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, json: JSON.parse(text) };
  }

  function requestToken(fields: Record<string, string>): Promise<Answer> {
    return post(
      oneio.tokenUrl,
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams(fields).toString(),
    );
  }

  async function issueToken(): Promise<string> {
    const { json } = await requestToken({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    return String(json.access_token);
  }

  /** The emulator again, now also accepting `relay-itsm` / `itsm secret`: the pair of a second ONEiO endpoint. */
  async function restartWithSecondEndpoint(): Promise<void> {
    await oneio.close();
    oneio = await startOneioEmulator({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      clients: [{ clientId: 'relay-itsm', clientSecret: 'itsm secret' }],
    });
  }

  function sendMessage(token: string | undefined, body = '{"id":1}'): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) {
      headers.authorization = `Bearer ${token}`;
    }
    return post(oneio.receiverUrl, headers, body);
  }

  describe('token endpoint', () => {
    it('issues a Bearer token for form-encoded client credentials containing any character', async () => {
      // Act
      const answer = await requestToken({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.json).toEqual({
        access_token: expect.stringMatching(/^[\w-]{40,}$/),
        token_type: 'Bearer',
        scope: 'ROLE_INTEGRATION',
        expires_in: 3599,
      });
      expect(oneio.tokenRequests.count).toBe(1);
      expect(oneio.tokenRequests.timestamps).toHaveLength(1);
    });

    it('answers 401 invalid_client to a wrong secret', async () => {
      const answer = await requestToken({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: 'a&b=c d %é',
      });

      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: 'invalid_client' });
    });

    it('rejects a secret that was not form-encoded', async () => {
      // Prepare: the naive body `client_secret=a&b=c+d %é` splits at & and turns + into a space.
      const body = `grant_type=client_credentials&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`;

      // Act
      const answer = await post(
        oneio.tokenUrl,
        { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      );

      // Assess
      expect(answer.status).toBe(401);
      expect(answer.json.error).toBe('invalid_client');
    });

    it('answers 400 invalid_request to a JSON body', async () => {
      const answer = await post(
        oneio.tokenUrl,
        { 'content-type': 'application/json' },
        JSON.stringify({
          grant_type: 'client_credentials',
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
        }),
      );

      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('invalid_request');
    });

    it('answers 400 unsupported_grant_type to any other grant', async () => {
      const answer = await requestToken({
        grant_type: 'password',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      });

      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('unsupported_grant_type');
    });

    it('issues tokens with the lifetime set, and accepts rotated credentials', async () => {
      // Prepare
      oneio.setTokenLifetime(120);
      oneio.setCredentials({ clientId: 'rotated', clientSecret: 'new secret' });

      // Act
      const old = await requestToken({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      });
      const rotated = await requestToken({
        grant_type: 'client_credentials',
        client_id: 'rotated',
        client_secret: 'new secret',
      });

      // Assess
      expect(old.status).toBe(401);
      expect(rotated.status).toBe(200);
      expect(rotated.json.expires_in).toBe(120);
    });

    it('accepts each further credential pair, one per ONEiO endpoint, and tells whose token reached the receiver', async () => {
      // Prepare: a second ONEiO endpoint
      await restartWithSecondEndpoint();

      // Act
      const itsm = await requestToken({
        grant_type: 'client_credentials',
        client_id: 'relay-itsm',
        client_secret: 'itsm secret',
      });
      const crossed = await requestToken({
        grant_type: 'client_credentials',
        client_id: 'relay-itsm',
        client_secret: CLIENT_SECRET,
      });
      const delivered = await sendMessage(String(itsm.json.access_token));
      await sendMessage(await issueToken());

      // Assess
      expect(itsm.status).toBe(200);
      expect(crossed.status).toBe(401);
      expect(delivered.status).toBe(200);
      expect(oneio.messages.map((m) => m.clientId)).toEqual(['relay-itsm', CLIENT_ID]);
      expect(oneio.tokenRequests.clientIds).toEqual(['relay-itsm', 'relay-itsm', CLIENT_ID]);
    });

    it("rotates one pair's secret, leaving the others and the tokens already issued alone", async () => {
      // Prepare
      await restartWithSecondEndpoint();
      const issued = await requestToken({
        grant_type: 'client_credentials',
        client_id: 'relay-itsm',
        client_secret: 'itsm secret',
      });

      // Act
      oneio.setClientSecret('relay-itsm', 'rotated');
      const old = await requestToken({
        grant_type: 'client_credentials',
        client_id: 'relay-itsm',
        client_secret: 'itsm secret',
      });
      const rotated = await requestToken({
        grant_type: 'client_credentials',
        client_id: 'relay-itsm',
        client_secret: 'rotated',
      });

      // Assess
      expect([old.status, rotated.status]).toEqual([401, 200]);
      expect((await sendMessage(await issueToken())).status).toBe(200);
      expect((await sendMessage(String(issued.json.access_token))).status).toBe(200);
      expect(() => oneio.setClientSecret('nobody', 'x')).toThrow('No client nobody');
    });

    it('fails the next requests as told, then recovers', async () => {
      // Prepare
      oneio.failTokenEndpoint({ status: 503, times: 2, body: '<html>maintenance</html>' });
      const fields = { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET };
      const statusAndText = async () => {
        const response = await request(oneio.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(fields).toString(),
          dispatcher: agent,
        });
        return [response.statusCode, await response.body.text()];
      };

      // Act
      const answers = [await statusAndText(), await statusAndText(), await statusAndText()];

      // Assess
      expect(answers.map(([status]) => status)).toEqual([503, 503, 200]);
      expect(answers[0]?.[1]).toBe('<html>maintenance</html>');
      expect(oneio.tokenRequests.count).toBe(3);
    });

    it('hangs before answering when delayed', async () => {
      // Prepare
      oneio.delayTokenEndpoint(300);
      const started = performance.now();

      // Act
      await issueToken();

      // Assess
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    });
  });

  describe('receiver', () => {
    it('records the raw body of a message sent with a valid token', async () => {
      // Prepare
      const token = await issueToken();
      const body = '{"b":12345678901234567890,"a":"é"}';

      // Act
      const answer = await sendMessage(token, body);

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ status: 'accepted' });
      expect(oneio.messages).toEqual([
        {
          body,
          accessToken: token,
          clientId: CLIENT_ID,
          receivedAt: expect.any(Number),
          request: expect.objectContaining({ id: 1 }),
        },
      ]);
      expect(oneio.receiverRequests).toBe(1);
    });

    it('hands each accepted message to onMessage', async () => {
      // Prepare
      const seen: string[] = [];
      await oneio.close();
      oneio = await startOneioEmulator({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        onMessage: (message) => seen.push(message.body),
      });

      // Act
      await sendMessage(await issueToken(), '{"hello":"world"}');

      // Assess
      expect(seen).toEqual(['{"hello":"world"}']);
    });

    it('answers 401 with a Bearer challenge when no token is sent', async () => {
      const answer = await sendMessage(undefined);

      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(oneio.unauthorizedResponses).toBe(1);
      expect(oneio.messages).toEqual([]);
    });

    it('answers 401 to a token it never issued', async () => {
      const answer = await sendMessage('forged');

      expect(answer.status).toBe(401);
    });

    it('answers 401 once the token has expired', async () => {
      // Prepare
      oneio.setTokenLifetime(1);
      const token = await issueToken();
      const fresh = await sendMessage(token);

      // Act
      await sleep(1_100);
      const expired = await sendMessage(token);

      // Assess
      expect(fresh.status).toBe(200);
      expect(expired.status).toBe(401);
      expect(oneio.unauthorizedResponses).toBe(1);
    });

    it('answers 401 to revoked tokens and accepts a new one', async () => {
      // Prepare
      const revoked = await issueToken();
      oneio.revokeAllTokens();

      // Act
      const refused = await sendMessage(revoked);
      const accepted = await sendMessage(await issueToken());

      // Assess
      expect(refused.status).toBe(401);
      expect(accepted.status).toBe(200);
    });

    it('answers 415 to a body that is not declared JSON', async () => {
      const token = await issueToken();

      const answer = await post(
        oneio.receiverUrl,
        { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        'hello',
      );

      expect(answer.status).toBe(415);
      expect(oneio.messages).toEqual([]);
    });

    it('fails the next requests with the status and Retry-After set, then accepts again', async () => {
      // Prepare
      const token = await issueToken();
      oneio.failReceiver({ status: 429, times: 2, retryAfter: 7 });

      // Act
      const first = await sendMessage(token);
      const second = await sendMessage(token);
      const third = await sendMessage(token);

      // Assess
      expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
      expect(first.headers['retry-after']).toBe('7');
      expect(third.headers['retry-after']).toBeUndefined();
      expect(oneio.receiverRequests).toBe(3);
      expect(oneio.messages).toHaveLength(1);
    });

    it('hangs before answering when delayed', async () => {
      // Prepare
      const token = await issueToken();
      oneio.delayReceiver(300);
      const started = performance.now();

      // Act
      const answer = await sendMessage(token);

      // Assess
      expect(answer.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('hangs long enough to trip a client headers timeout', async () => {
      // Prepare: undici arms headersTimeout on its ~1 s resolution timer, so the delay must clearly exceed that.
      const token = await issueToken();
      oneio.delayReceiver(3_000);
      const impatient = new Agent({ headersTimeout: 100 });

      try {
        // Act
        const attempt = request(oneio.receiverUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
          dispatcher: impatient,
        });

        // Assess
        await expect(attempt).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
      } finally {
        await impatient.destroy();
      }
    });

    it('resets the connection of the next requests without answering', async () => {
      // Prepare
      const token = await issueToken();
      oneio.resetConnections({ times: 1 });

      // Act
      const reset = sendMessage(token);

      // Assess
      await expect(reset).rejects.toMatchObject({
        code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/),
      });
      expect((await sendMessage(token)).status).toBe(200);
      expect(oneio.receiverRequests).toBe(2);
      expect(oneio.messages).toHaveLength(1);
    });
  });

  describe('what the receiver saw', () => {
    it('records each request with its URL and query, every header and the raw body, with the answer given', async () => {
      // Prepare: bytes that are not valid UTF-8 must survive as they came.
      const token = await issueToken();
      const raw = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
      oneio.failReceiver({ status: 503, times: 1 });

      // Act
      const refused = await request(`${oneio.receiverUrl}?issue.key=ABC-1&project.key=OPS`, {
        method: 'POST',
        dispatcher: agent,
        headers: [
          'authorization',
          `Bearer ${token}`,
          'content-type',
          'application/json',
          'X-Forwarded-Thing',
          'one',
          'x-forwarded-thing',
          'two',
        ],
        body: raw,
      });
      const accepted = await request(oneio.receiverUrl, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: raw,
      });
      await refused.body.dump();
      await accepted.body.dump();

      // Assess
      expect(oneio.receiverLog.map((r) => [r.id, r.url, r.status])).toEqual([
        [1, '/api/v2?issue.key=ABC-1&project.key=OPS', 503],
        [2, '/api/v2', 200],
      ]);
      const [first] = oneio.receiverLog;
      expect(first?.rawBody.equals(raw)).toBe(true);
      expect(first?.headers).toEqual(
        expect.arrayContaining([
          ['X-Forwarded-Thing', 'one'],
          ['x-forwarded-thing', 'two'],
          ['authorization', `Bearer ${token}`],
        ]),
      );
      expect(refused.headers['x-oneio-emulator-request']).toBe('1');
      expect(accepted.headers['x-oneio-emulator-request']).toBe('2');
      expect(oneio.messages).toHaveLength(1);
      expect(oneio.messages[0]?.request.id).toBe(2);
      expect(oneio.containsIssuedToken(`…${token}…`)).toBe(true);
      expect(oneio.containsIssuedToken('no token here')).toBe(false);
    });

    it.each([
      ['503', 503, undefined],
      ['429', 429, '1'],
      ['401', 401, undefined],
      ['400', 400, undefined],
    ] as const)(
      'answers every message %s while switched so, until switched back',
      async (mode, status, retryAfter) => {
        // Prepare
        const token = await issueToken();
        oneio.setReceiverMode(mode);

        // Act
        const first = await sendMessage(token);
        const second = await sendMessage(token);
        oneio.setReceiverMode('normal');
        const after = await sendMessage(token);

        // Assess
        expect([first.status, second.status, after.status]).toEqual([status, status, 200]);
        expect(first.headers['retry-after']).toBe(retryAfter);
        expect(oneio.receiverMode).toBe('normal');
        expect(oneio.messages).toHaveLength(1);
      },
    );

    it('accepts messages after a noticeable wait when switched to slow', async () => {
      const token = await issueToken();
      oneio.setReceiverMode('slow');

      const started = performance.now();
      const answer = await sendMessage(token);

      expect(answer.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(2_900);
    });

    it('refuses a mode it does not know', () => {
      expect(() => oneio.setReceiverMode('418' as never)).toThrow(RangeError);
    });
  });

  describe('connections', () => {
    it('keeps connections alive: 20 sequential requests use at most 2', async () => {
      // Act
      const token = await issueToken();
      const statuses: number[] = [];
      for (let i = 0; i < 19; i += 1) {
        statuses.push((await sendMessage(token, `{"n":${i}}`)).status);
      }

      // Assess
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect(oneio.connections).toBeGreaterThanOrEqual(1);
      expect(oneio.connections).toBeLessThanOrEqual(2);
    });

    it('drops idle keep-alive connections on close, so nothing holds the process open', async () => {
      // Prepare
      await issueToken();

      // Act
      const started = performance.now();
      await oneio.close();

      // Assess
      expect(performance.now() - started).toBeLessThan(1_000);
      await expect(issueToken()).rejects.toThrow();
      oneio = await startOneioEmulator();
    });
  });
});
