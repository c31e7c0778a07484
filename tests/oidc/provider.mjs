// A test OpenID provider for Lots' integration tests and CI.
//
// It runs the certified `oidc-provider` package with a configuration made for tests:
// dynamic client registration without an initial access token, accounts defined at run time,
// an interaction that logs in and consents in one GET (`/interaction/:uid?login=<account id>`),
// JWT access tokens for the resource server "lots", and control endpoints under `/__test/`
// to rotate the signing key, to spoil ID tokens on purpose ("mischief") and to mint access
// tokens directly. See README.md beside this file.
//
// Environment: PORT (0 or unset: a free port is picked), OIDC_IGNORE_STDIN=1 to keep running
// when standard input closes (by default the process exits then, so that a test that spawned
// it with a piped stdin kills it by dropping the child).
//
// Standard output carries exactly one line, `READY http://127.0.0.1:<port>`, once listening.
// Everything else goes to standard error.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { promisify } from 'node:util';

import { CompactSign, SignJWT, base64url, decodeJwt, decodeProtectedHeader } from 'jose';

// oidc-provider prints its notices with console.info, which is standard output: keep standard
// output for the READY line alone.
console.log = console.error;
console.info = console.error;

// oidc-provider 9 warns on every start under a Node.js older than 22 LTS. It works on Node 20
// (selfcheck.mjs runs the flows this harness offers), so leave that one warning out of the logs.
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
  warn(...args);
};

// Imported after the console is set up, as the warning above comes at import time.
const { default: Provider, errors } = await import('oidc-provider');

const HOST = '127.0.0.1';

/** The resource indicator used when the client sends none, and its audience. */
const DEFAULT_RESOURCE = 'urn:lots:api';
const RESOURCE_AUDIENCE = 'lots';
/** The scopes that the resource server "lots" knows: its access tokens carry those granted. */
const RESOURCE_SCOPE = 'openid profile email personal_number';

const MISCHIEF_MODES = new Set([
  'none',
  'tamper',
  'expired',
  'wrong_nonce',
  'wrong_audience',
  'wrong_issuer',
  'unknown_key',
  'none_alg',
]);

// ---------------------------------------------------------------------------------------------
// State shared by every Provider instance (a rotation builds a new instance).

/** Accounts defined by the tests: id -> claims (without `sub`, which is the id). */
const accounts = new Map();

/** Signing keys, newest first: { kid, privateJwk, keyObject }. The JWKS lists them in order. */
let signingKeys = [];

/** A key whose kid the JWKS never publishes, for `unknown_key` and minting with key "unknown";
 * made on first use (a promise of the key). */
let foreignKey;
const getForeignKey = () => {
  foreignKey ??= newSigningKey('unknown');
  return foreignKey;
};

/** The mischief mode applied to the ID token of every token endpoint response. */
let mischief = 'none';

/** Signs the provider's cookies; the same for every instance so that cookies outlive a rotation. */
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

let issuer;
let provider;
let providerHandler;

const generateKeyPair = promisify(crypto.generateKeyPair);

/** A new RS256 key pair with a random kid. */
async function newSigningKey(prefix = 'k') {
  const { privateKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
  const kid = `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateJwk, keyObject: privateKey };
}

// ---------------------------------------------------------------------------------------------
// An in-memory adapter whose store is module-level, so that clients, grants, sessions,
// interactions and codes survive a rebuild of the Provider. Expiry is honoured on every read,
// and a sweep drops expired entries now and then.

const store = new Map(); // `${model}:${id}` -> { payload, expiresAt (ms, Infinity for none) }
const grantIndex = new Map(); // grantId -> Set of store keys
const sessionUidIndex = new Map(); // session uid -> session id
const userCodeIndex = new Map(); // user code -> device code id

function readEntry(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry;
}

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(key, { payload: structuredClone(payload), expiresAt });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
    if (this.model === 'Session' && payload.uid) sessionUidIndex.set(payload.uid, id);
    if (payload.userCode) userCodeIndex.set(payload.userCode, id);
  }

  async find(id) {
    const entry = readEntry(this.key(id));
    return entry ? structuredClone(entry.payload) : undefined;
  }

  async findByUid(uid) {
    const id = sessionUidIndex.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodeIndex.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const entry = readEntry(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

// Drop expired entries once a minute; the timer does not keep the process alive.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) if (entry.expiresAt <= now) store.delete(key);
  for (const [grantId, keys] of grantIndex) {
    for (const key of keys) if (!store.has(key)) keys.delete(key);
    if (keys.size === 0) grantIndex.delete(grantId);
  }
  for (const [uid, id] of sessionUidIndex) if (!store.has(`Session:${id}`)) sessionUidIndex.delete(uid);
  for (const [code, id] of userCodeIndex) if (!store.has(`DeviceCode:${id}`)) userCodeIndex.delete(code);
}, 60_000).unref();

// ---------------------------------------------------------------------------------------------
// The Provider.

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;
}

/** The account's claims that JWT access tokens carry besides the standard ones. */
function accessTokenClaimsOf(accountId) {
  const claims = accounts.get(accountId);
  if (!claims) return undefined;
  const extra = {};
  for (const name of ['preferred_username', 'name', 'groups']) {
    if (claims[name] !== undefined) extra[name] = claims[name];
  }
  return extra;
}

function buildProvider() {
  const configuration = {
    adapter: SharedMemoryAdapter,
    jwks: { keys: signingKeys.map((k) => k.privateJwk) },
    // Cookie names of their own: the provider shares the host 127.0.0.1 with Lots, and a cookie
    // jar tells cookies apart by host and path, not by port.
    cookies: {
      keys: cookieKeys,
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_resume' },
    },

    // Which claims each scope releases. `personal_number` has a scope of its own and also comes
    // with `profile`, so that the default scopes `openid profile email` bring it.
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'groups', 'personal_number'],
      email: ['email'],
      personal_number: ['personal_number'],
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
    },
    // The ID token carries every claim that the granted scopes release, not only `sub`.
    conformIdTokenClaims: false,

    async findAccount(ctx, sub) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { ...claims, sub };
        },
      };
    },

    // Access tokens (JWT for the resource server) carry the account's name and groups too.
    async extraTokenClaims(ctx, token) {
      return token.accountId ? accessTokenClaimsOf(token.accountId) : undefined;
    },

    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      // PUT /reg/<client_id> with the registration_access_token replaces a client's metadata
      // (e.g. redirect_uris once Lots' port is known); the token stays the same.
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      resourceIndicators: {
        enabled: true,
        // An authorization request without `resource` is for Lots' API ...
        defaultResource: async () => DEFAULT_RESOURCE,
        // ... and so is the token request that redeems its code, without `resource` either.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resourceIndicator) => {
          if (resourceIndicator !== DEFAULT_RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: RESOURCE_SCOPE,
            audience: RESOURCE_AUDIENCE,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },

    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      ClientCredentials: 600,
      Grant: 86400,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86400,
      Session: 86400,
    },

    interactions: {
      url: async (ctx, interaction) => `/interaction/${interaction.uid}`,
    },

    async renderError(ctx, out) {
      ctx.type = 'html';
      const items = Object.entries(out)
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
        .join('');
      ctx.body = page('Error', items);
    },
  };

  const instance = new Provider(issuer, configuration);

  // Mischief: rewrite the ID token of the token endpoint's JSON response after the provider made
  // it. The mode is read when the response is made, so a switch applies to the next response.
  instance.use(async (ctx, next) => {
    await next();
    if (
      mischief !== 'none'
      && ctx.method === 'POST'
      && ctx.path === '/token'
      && ctx.status === 200
      && ctx.body
      && typeof ctx.body.id_token === 'string'
    ) {
      ctx.body = { ...ctx.body, id_token: await spoilIdToken(ctx.body.id_token, mischief) };
    }
  });

  instance.on('server_error', (ctx, err) => {
    console.error('oidc test provider: server_error', err);
  });

  return instance;
}

function installProvider() {
  provider = buildProvider();
  providerHandler = provider.callback();
}

// ---------------------------------------------------------------------------------------------
// Mischief on ID tokens.

async function resign(header, payload, keyObject) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(keyObject);
}

/** Returns the ID token spoiled as `mode` says (see MISCHIEF_MODES and README.md). */
async function spoilIdToken(idToken, mode) {
  const header = decodeProtectedHeader(idToken);
  const payload = decodeJwt(idToken);
  const current = signingKeys[0].keyObject;
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'tamper': {
      // A changed claim under the old signature.
      const [encodedHeader, , signature] = idToken.split('.');
      const changed = { ...payload, name: `${payload.name ?? 'someone'} (tampered)` };
      const encodedPayload = base64url.encode(JSON.stringify(changed));
      return `${encodedHeader}.${encodedPayload}.${signature}`;
    }
    case 'expired':
      return resign(header, { ...payload, iat: now - 7200, exp: now - 3900 }, current);
    case 'wrong_nonce':
      return resign(header, { ...payload, nonce: 'not-the-nonce' }, current);
    case 'wrong_audience':
      return resign(header, { ...payload, aud: 'someone-else' }, current);
    case 'wrong_issuer':
      return resign(header, { ...payload, iss: 'http://evil.example' }, current);
    case 'unknown_key': {
      const foreign = await getForeignKey();
      return resign({ ...header, kid: foreign.kid }, payload, foreign.keyObject);
    }
    case 'none_alg': {
      const encodedHeader = base64url.encode(JSON.stringify({ ...header, alg: 'none' }));
      return `${encodedHeader}.${base64url.encode(JSON.stringify(payload))}.`;
    }
    default:
      return idToken;
  }
}

// ---------------------------------------------------------------------------------------------
// The interaction: `GET /interaction/:uid?login=<account id>` logs in and consents at once.

async function handleInteraction(req, res, url) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    // Missing or expired `_interaction` cookie, or an unknown interaction.
    return sendHtml(res, 400, page('Interaction not found', `<p>${escapeHtml(err.message)}</p>`));
  }
  const uid = url.pathname.split('/')[2];
  if (details.uid !== uid) {
    return sendHtml(res, 400, page('Interaction mismatch', '<p>The cookie names another interaction.</p>'));
  }

  const login = url.searchParams.get('login');
  if (login === null) {
    const known = [...accounts.keys()].map((id) => `<li><code>${escapeHtml(id)}</code></li>`).join('');
    return sendHtml(res, 200, page('Test provider: sign in', `<form method="get" action="/interaction/${escapeHtml(uid)}">`
      + '<label>Account id <input name="login" autofocus></label> <button type="submit">Sign in</button></form>'
      + `<p>Known accounts:</p><ul>${known}</ul>`));
  }
  if (!accounts.has(login)) {
    return sendHtml(res, 400, page('Unknown account', `<p>No account <code>${escapeHtml(login)}</code>.</p>`));
  }

  const { params } = details;

  // Signing in as another account than the one of the provider session that the cookies name:
  // forget that session, so that the provider does not ask to log the other account out first.
  if (details.session?.accountId && details.session.accountId !== login) {
    const previous = await provider.Session.findByUid(details.session.uid);
    if (previous) await previous.destroy();
    details.session = undefined;
    details.grantId = undefined;
    details.accountId = undefined;
    await details.persist();
  }

  // Grant everything requested: the OIDC scopes, and the same scopes at the resource server
  // (the default one when the request named none). The `claims` parameter is not offered.
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant || grant.accountId !== login) {
    grant = new provider.Grant({ accountId: login, clientId: params.client_id });
  }
  if (params.scope) grant.addOIDCScope(params.scope);
  const resources = params.resource === undefined ? [DEFAULT_RESOURCE] : [params.resource].flat();
  for (const resource of resources) {
    if (params.scope) grant.addResourceScope(resource, params.scope);
  }
  const grantId = await grant.save();

  // 303 to the provider's resume URL `/auth/<uid>`.
  await provider.interactionFinished(req, res, {
    login: { accountId: login },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------------------------
// Control endpoints under /__test/.

async function mintAccessToken(body) {
  const accountId = body.account;
  const claims = accounts.get(accountId);
  if (!claims) throw new HttpError(400, `unknown account ${JSON.stringify(accountId)}`);
  const key = body.key ?? 'current';
  if (key !== 'current' && key !== 'unknown') throw new HttpError(400, 'key must be "current" or "unknown"');
  const expiresIn = body.expires_in ?? 300;
  if (!Number.isInteger(expiresIn) || expiresIn === 0) throw new HttpError(400, 'expires_in must be a non-zero integer');

  const now = Math.floor(Date.now() / 1000);
  const exp = now + expiresIn;
  // An already expired token was also issued before it expired.
  const iat = expiresIn > 0 ? now : exp - 300;
  const signer = key === 'current' ? signingKeys[0] : await getForeignKey();
  const payload = {
    ...accessTokenClaimsOf(accountId),
    iss: body.issuer ?? issuer,
    sub: accountId,
    aud: body.audience ?? RESOURCE_AUDIENCE,
    iat,
    exp,
    jti: crypto.randomBytes(16).toString('base64url'),
    client_id: 'test',
    scope: 'openid profile',
  };
  const accessToken = await new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: signer.kid })
    .sign(signer.keyObject);
  return { access_token: accessToken };
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value;
  } catch (err) {
    throw new HttpError(400, `the body must be a JSON object: ${err.message}`);
  }
}

async function handleControl(req, res, url) {
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /__test/health':
      return sendJson(res, 200, {
        status: 'ok',
        issuer,
        kid: signingKeys[0].kid,
        published_kids: signingKeys.map((k) => k.kid),
        mischief,
        accounts: accounts.size,
      });

    case 'POST /__test/accounts': {
      const body = await readJson(req);
      if (typeof body.id !== 'string' || !body.id) throw new HttpError(400, 'id must be a non-empty string');
      const claims = body.claims ?? {};
      if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
        throw new HttpError(400, 'claims must be an object');
      }
      const { sub, ...rest } = claims;
      accounts.set(body.id, rest);
      return sendJson(res, 201, { id: body.id, claims: { ...rest, sub: body.id } });
    }

    case 'POST /__test/rotate': {
      const body = await readJson(req);
      const fresh = await newSigningKey();
      signingKeys = body.drop_old ? [fresh] : [fresh, signingKeys[0]];
      installProvider();
      console.error(`oidc test provider: signing with ${fresh.kid}, publishing ${signingKeys.map((k) => k.kid).join(', ')}`);
      return sendJson(res, 200, { kid: fresh.kid, published_kids: signingKeys.map((k) => k.kid) });
    }

    case 'POST /__test/mischief': {
      const body = await readJson(req);
      if (!MISCHIEF_MODES.has(body.mode)) {
        throw new HttpError(400, `mode must be one of ${[...MISCHIEF_MODES].join(', ')}`);
      }
      mischief = body.mode;
      return sendJson(res, 200, { mode: mischief });
    }

    case 'POST /__test/token':
      return sendJson(res, 200, await mintAccessToken(await readJson(req)));

    default:
      throw new HttpError(404, `no control endpoint ${route}`);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing.

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function sendHtml(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  res.end(html);
}

async function route(req, res) {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (!provider) {
      return sendJson(res, 503, { error: 'starting' });
    }
    if (url.pathname.startsWith('/__test/')) {
      return await handleControl(req, res, url);
    }
    if (req.method === 'GET' && /^\/interaction\/[^/]+\/?$/.test(url.pathname)) {
      return await handleInteraction(req, res, url);
    }
    // Everything else is the provider's; read the handler now so that a rotation swaps it.
    return providerHandler(req, res);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 500) console.error('oidc test provider:', err);
    if (!res.headersSent) sendJson(res, status, { error: err.message });
    else res.end();
  }
}

async function main() {
  signingKeys = [await newSigningKey()];

  const server = http.createServer(route);
  const requested = Number.parseInt(process.env.PORT ?? '0', 10) || 0;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(requested, HOST, resolve);
  });
  const { port } = server.address();
  issuer = `http://${HOST}:${port}`;
  installProvider();

  const shutdown = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (process.env.OIDC_IGNORE_STDIN !== '1') {
    // The spawning test holds our stdin: when it goes away, so do we.
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }

  // Writes to a pipe or a file are synchronous in Node on Linux, so this line is out at once.
  process.stdout.write(`READY ${issuer}\n`);
}

main().catch((err) => {
  console.error('oidc test provider: failed to start:', err);
  process.exit(1);
});
