// Self-check of the test OpenID provider: starts provider.mjs, drives real authorization code
// flows with PKCE and nonce through plain fetch (redirects followed by hand, cookies carried by a
// small cookie jar), and checks ID tokens, access tokens, key rotation, every mischief mode and
// the minting endpoint. Prints `SELFCHECK OK` and exits 0, or prints the reason and exits 1.
//
// Run: cd tests/oidc && node selfcheck.mjs   (VERBOSE=1 prints each redirect)

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const verbose = process.env.VERBOSE === '1';

class CheckFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

function log(...args) {
  if (verbose) console.error(...args);
}

// ---------------------------------------------------------------------------------------------
// The provider as a child process.

function startProvider() {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./provider.mjs', import.meta.url))], {
    env: { ...process.env, PORT: '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new CheckFailed('provider not READY within 20 s')), 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n')) {
        clearTimeout(timer);
        const match = /^READY (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
        if (match) resolve(match[1]);
        else reject(new CheckFailed(`unexpected first line on stdout: ${JSON.stringify(line)}`));
      }
    });
    child.on('exit', (code) => reject(new CheckFailed(`provider exited early with ${code}`)));
  });
  return { child, ready };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers: a cookie jar like a browser's (or reqwest's cookie store), for one user agent.

class CookieJar {
  #cookies = new Map(); // name -> { value, path }

  store(response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = val;
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, { value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    const pairs = [];
    for (const [name, { value, path }] of this.#cookies) {
      if (pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`)) {
        pairs.push(`${name}=${value}`);
      }
    }
    return pairs.join('; ');
  }

  names() {
    return [...this.#cookies.keys()].sort();
  }
}

async function get(url, jar) {
  const headers = {};
  const cookie = jar?.header(url);
  if (cookie) headers.cookie = cookie;
  const response = await fetch(url, { redirect: 'manual', headers });
  jar?.store(response);
  return response;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

const base64url = (buffer) => Buffer.from(buffer).toString('base64url');

// ---------------------------------------------------------------------------------------------
// One authorization code flow, in steps so that a test can pause it (e.g. around a rotation).

/** Starts a flow: GET /auth and follow redirects until the interaction page or the callback. */
async function beginFlow(ctx, client, jar, extraParams = {}) {
  const verifier = base64url(crypto.randomBytes(32));
  const flow = {
    client,
    jar,
    verifier,
    state: base64url(crypto.randomBytes(12)),
    nonce: base64url(crypto.randomBytes(12)),
    hops: [],
  };
  const url = new URL(ctx.discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid profile email',
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: base64url(crypto.createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extraParams,
  }).toString();
  await follow(flow, url.href);
  return flow;
}

/** Follows redirects from `url` until the interaction page or the client's redirect_uri. */
async function follow(flow, url) {
  for (let hop = 0; hop < 10; hop += 1) {
    if (url.startsWith(REDIRECT_URI)) {
      const params = new URL(url).searchParams;
      check(!params.has('error'), `authorization error: ${params.get('error')}: ${params.get('error_description')}`);
      check(params.get('state') === flow.state, 'state differs at the callback');
      flow.code = params.get('code');
      flow.iss = params.get('iss');
      check(flow.code, 'no code at the callback');
      return;
    }
    const response = await get(url, flow.jar);
    const location = response.headers.get('location');
    flow.hops.push(`${response.status} ${new URL(url).pathname}${location ? ` -> ${location.split('?')[0]}` : ''}`);
    log('   ', flow.hops.at(-1));
    if (response.status === 200 && /\/interaction\/[^/]+$/.test(new URL(url).pathname)) {
      flow.interactionUrl = url;
      flow.interactionPage = await response.text();
      return;
    }
    check([302, 303].includes(response.status) && location,
      `expected a redirect from ${url}, got ${response.status}: ${(await response.text()).slice(0, 300)}`);
    url = new URL(location, url).href;
  }
  throw new CheckFailed('more than 10 redirects');
}

/** Logs in at the interaction as `account` and follows on to the callback. */
async function login(flow, account) {
  check(flow.interactionUrl, 'no interaction to log in at');
  const url = `${flow.interactionUrl}?login=${encodeURIComponent(account)}`;
  delete flow.interactionUrl;
  await follow(flow, url);
}

/** Exchanges the flow's code at the token endpoint. */
async function redeem(ctx, flow) {
  const { client } = flow;
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: flow.code,
    redirect_uri: REDIRECT_URI,
    code_verifier: flow.verifier,
  });
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.token_endpoint_auth_method === 'client_secret_post') {
    body.set('client_id', client.client_id);
    body.set('client_secret', client.client_secret);
  } else {
    const user = encodeURIComponent(client.client_id);
    const password = encodeURIComponent(client.client_secret);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const response = await fetch(ctx.discovery.token_endpoint, { method: 'POST', headers, body });
  const json = await response.json();
  check(response.status === 200, `token endpoint answered ${response.status}: ${JSON.stringify(json)}`);
  check(json.id_token && json.access_token, `token response without id_token or access_token: ${JSON.stringify(json)}`);
  return json;
}

/** A whole flow for `account` with a fresh cookie jar (a new browser). */
async function fullFlow(ctx, client, account, jar = new CookieJar()) {
  const flow = await beginFlow(ctx, client, jar);
  if (!flow.code) await login(flow, account);
  const tokens = await redeem(ctx, flow);
  return { flow, tokens };
}

async function jwks(ctx) {
  const response = await fetch(ctx.discovery.jwks_uri);
  check(response.status === 200, `jwks answered ${response.status}`);
  return response.json();
}

/** Verifies an ID token as a relying party must; throws jose's error when it is bad. */
async function verifyIdToken(ctx, idToken, flow, options = {}) {
  const keySet = createLocalJWKSet(await jwks(ctx));
  const { payload, protectedHeader } = await jwtVerify(idToken, keySet, {
    issuer: ctx.issuer,
    audience: flow.client.client_id,
    algorithms: ['RS256'],
    ...options,
  });
  if (payload.nonce !== flow.nonce) {
    throw Object.assign(new Error('nonce mismatch'), { code: 'NONCE_MISMATCH' });
  }
  return { payload, protectedHeader };
}

async function errorCodeOf(promise) {
  try {
    await promise;
    return undefined;
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    return err.code ?? err.message;
  }
}

// ---------------------------------------------------------------------------------------------
// The checks.

const SARA = {
  id: 'sara',
  claims: {
    preferred_username: 'sara',
    name: 'Sara Berg',
    groups: ['lots-sbf-handlaggare'],
    email: 'sara.berg@example.org',
    personal_number: '198001011234',
  },
};
const OLLE = {
  id: 'olle',
  claims: { preferred_username: 'olle', name: 'Olle Ek', groups: ['lots-admin'], email: 'olle@example.org' },
};

function checkSaraIdToken(payload) {
  check(payload.sub === 'sara', `sub ${payload.sub}`);
  check(payload.preferred_username === 'sara', 'preferred_username missing from the ID token');
  check(payload.name === 'Sara Berg', 'name missing from the ID token');
  check(JSON.stringify(payload.groups) === JSON.stringify(['lots-sbf-handlaggare']), 'groups missing from the ID token');
  check(payload.email === 'sara.berg@example.org', 'email missing from the ID token');
  check(payload.personal_number === '198001011234', 'personal_number missing from the ID token');
}

async function checkAccessToken(ctx, accessToken, { account, kid }) {
  const header = decodeProtectedHeader(accessToken);
  check(header.alg === 'RS256' && header.typ === 'at+jwt', `access token header ${JSON.stringify(header)}`);
  if (kid) check(header.kid === kid, `access token kid ${header.kid}, expected ${kid}`);
  const { payload } = await jwtVerify(accessToken, createLocalJWKSet(await jwks(ctx)), {
    issuer: ctx.issuer,
    audience: 'lots',
    algorithms: ['RS256'],
  });
  check(payload.aud === 'lots', `access token aud ${JSON.stringify(payload.aud)}`);
  check(payload.sub === account.id, `access token sub ${payload.sub}`);
  check(payload.preferred_username === account.claims.preferred_username, 'access token without preferred_username');
  check(payload.name === account.claims.name, 'access token without name');
  check(JSON.stringify(payload.groups) === JSON.stringify(account.claims.groups), 'access token without groups');
  return payload;
}

async function run(ctx) {
  const { issuer } = ctx;

  // Discovery and health.
  ctx.discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  check(ctx.discovery.issuer === issuer, 'discovery issuer');
  check(ctx.discovery.registration_endpoint === `${issuer}/reg`, 'no registration endpoint');
  check(ctx.discovery.code_challenge_methods_supported.includes('S256'), 'no S256');
  check((await fetch(`${issuer}/__test/health`)).status === 200, 'health');

  // Clients: one authenticating with client_secret_basic, one with client_secret_post.
  const clients = {};
  for (const method of ['client_secret_basic', 'client_secret_post']) {
    const reg = await postJson(ctx.discovery.registration_endpoint, {
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: method,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    });
    check(reg.status === 201, `registration answered ${reg.status}: ${reg.text}`);
    check(reg.json.client_id && reg.json.client_secret, 'registration without client_id/client_secret');
    clients[method] = reg.json;
  }
  const client = clients.client_secret_basic;

  // A registration can be updated (RFC 7592), e.g. with the redirect_uri once it is known.
  {
    const reg = await postJson(ctx.discovery.registration_endpoint, {
      redirect_uris: ['http://127.0.0.1:1/placeholder'],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    });
    const response = await fetch(reg.json.registration_client_uri, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${reg.json.registration_access_token}`,
      },
      body: JSON.stringify({
        client_id: reg.json.client_id,
        client_secret: reg.json.client_secret,
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      }),
    });
    const updated = await response.json();
    check(response.status === 200 && updated.redirect_uris[0] === REDIRECT_URI && updated.client_secret === reg.json.client_secret,
      `updating a registration answered ${response.status}: ${JSON.stringify(updated)}`);
    clients.updated = updated;
  }

  // Accounts.
  for (const account of [SARA, OLLE]) {
    const added = await postJson(`${issuer}/__test/accounts`, account);
    check(added.status === 201, `accounts answered ${added.status}`);
  }

  // 1. A full flow for sara.
  const first = await beginFlow(ctx, client, new CookieJar());
  check(first.interactionUrl, 'the flow did not reach the interaction');
  check(first.interactionPage.includes('name="login"'), 'the interaction page has no login form');
  const jarAtInteraction = first.jar.names();
  const cookieless = await get(`${first.interactionUrl}?login=sara`);
  check(cookieless.status === 400, `the interaction without its cookie answered ${cookieless.status}`);
  const unknown = await get(`${first.interactionUrl}?login=nobody`, first.jar);
  check(unknown.status === 400, `an unknown account answered ${unknown.status}`);
  await login(first, 'sara');
  check(first.iss === issuer, 'no iss at the callback');
  const firstTokens = await redeem(ctx, first);
  const { payload: idToken, protectedHeader } = await verifyIdToken(ctx, firstTokens.id_token, first);
  checkSaraIdToken(idToken);
  check(idToken.aud === client.client_id, `ID token aud ${JSON.stringify(idToken.aud)}`);
  const firstKid = protectedHeader.kid;
  check(firstKid, 'ID token without kid');
  const accessClaims = await checkAccessToken(ctx, firstTokens.access_token, { account: SARA, kid: firstKid });
  console.log('flow 1 redirects:');
  for (const hop of first.hops) console.log(`  ${hop}`);
  console.log(`  cookies at the interaction: ${jarAtInteraction.join(', ')}`);
  console.log(`  ID token claims: ${Object.keys(idToken).sort().join(' ')}`);
  console.log(`  ID token header: ${JSON.stringify(protectedHeader)}, aud ${JSON.stringify(idToken.aud)} (the client_id)`);
  console.log(`  access token header: ${JSON.stringify(decodeProtectedHeader(firstTokens.access_token))}`);
  console.log(`  token response: ${Object.keys(firstTokens).sort().join(' ')}`);
  console.log(`  access token claims: ${Object.keys(accessClaims).sort().join(' ')} (scope "${accessClaims.scope}")`);

  // 2. The same browser again: the provider session and grant let it through without interaction.
  const again = await beginFlow(ctx, client, first.jar);
  check(again.code && !again.interactionUrl, `a second flow in the same browser asked to log in again: ${again.hops.join(' | ')}; cookies ${first.jar.names()}`);
  const againTokens = await redeem(ctx, again);
  checkSaraIdToken((await verifyIdToken(ctx, againTokens.id_token, again)).payload);
  console.log(`flow 2 (same cookies): ${again.hops.join(' | ')}`);

  // 3. The same browser, another account (prompt=login forces the interaction despite the
  // session): the interaction switches accounts without a logout page.
  const switchFlow = await beginFlow(ctx, client, first.jar, { prompt: 'login' });
  check(switchFlow.interactionUrl, 'prompt=login did not reach the interaction');
  await login(switchFlow, 'olle');
  const switched = await verifyIdToken(ctx, (await redeem(ctx, switchFlow)).id_token, switchFlow);
  check(switched.payload.sub === 'olle', `switching accounts gave sub ${switched.payload.sub}`);

  // 4. client_secret_post works too, and so does the client whose registration was updated.
  const post = await fullFlow(ctx, clients.client_secret_post, 'sara');
  checkSaraIdToken((await verifyIdToken(ctx, post.tokens.id_token, post.flow)).payload);
  const viaUpdated = await fullFlow(ctx, clients.updated, 'sara');
  checkSaraIdToken((await verifyIdToken(ctx, viaUpdated.tokens.id_token, viaUpdated.flow)).payload);
  // The code is single use (reuse also revokes the grant, so this comes after the same-browser flows).
  const replay = await errorCodeOf(redeem(ctx, post.flow).catch((err) => {
    throw Object.assign(new Error(err.message), { code: 'REJECTED' });
  }));
  check(replay === 'REJECTED', 'a code was accepted twice');


  // 5. Rotation keeps a pending interaction, a code, the clients and the accounts.
  const pending = await beginFlow(ctx, client, new CookieJar());
  check(pending.interactionUrl, 'no pending interaction');
  const rotated = await postJson(`${issuer}/__test/rotate`, {});
  check(rotated.status === 200, `rotate answered ${rotated.status}`);
  const newKid = rotated.json.kid;
  check(newKid && newKid !== firstKid, 'rotation returned no new kid');
  await login(pending, 'sara'); // the interaction begun before the rotation
  const afterRotation = await redeem(ctx, pending);
  const verified = await verifyIdToken(ctx, afterRotation.id_token, pending);
  check(verified.protectedHeader.kid === newKid, `after rotation the ID token kid is ${verified.protectedHeader.kid}`);
  checkSaraIdToken(verified.payload);
  await checkAccessToken(ctx, afterRotation.access_token, { account: SARA, kid: newKid });
  const published = (await jwks(ctx)).keys.map((k) => k.kid);
  check(published[0] === newKid && published.includes(firstKid) && published.length === 2,
    `JWKS after rotation: ${published.join(', ')}`);
  // A code obtained before a rotation is redeemed after it.
  const codeFirst = await beginFlow(ctx, client, new CookieJar());
  await login(codeFirst, 'sara');
  const dropped = await postJson(`${issuer}/__test/rotate`, { drop_old: true });
  const droppedKid = dropped.json.kid;
  const lateTokens = await redeem(ctx, codeFirst);
  const late = await verifyIdToken(ctx, lateTokens.id_token, codeFirst);
  check(late.protectedHeader.kid === droppedKid, 'the ID token after drop_old is not signed with the newest key');
  const onlyOne = (await jwks(ctx)).keys.map((k) => k.kid);
  check(onlyOne.length === 1 && onlyOne[0] === droppedKid, `JWKS after drop_old: ${onlyOne.join(', ')}`);
  // An ID token signed with the dropped key does not verify any more.
  check(await errorCodeOf(verifyIdToken(ctx, afterRotation.id_token, pending)) === 'ERR_JWKS_NO_MATCHING_KEY',
    'a token of a dropped key still verifies');
  console.log(`rotation: ${firstKid} -> ${newKid} (both published) -> ${droppedKid} (drop_old)`);

  // 6. Mischief: each mode spoils the ID token as intended.
  const currentKid = droppedKid;
  const spoiled = async (mode) => {
    const set = await postJson(`${issuer}/__test/mischief`, { mode });
    check(set.status === 200 && set.json.mode === mode, `mischief ${mode} answered ${set.status}`);
    const { flow, tokens } = await fullFlow(ctx, client, 'sara');
    return { flow, idToken: tokens.id_token, header: decodeProtectedHeader(tokens.id_token), payload: decodeJwt(tokens.id_token) };
  };
  const results = {};
  {
    const { flow, idToken, header, payload } = await spoiled('tamper');
    results.tamper = await errorCodeOf(verifyIdToken(ctx, idToken, flow));
    check(results.tamper === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', `tamper: ${results.tamper}`);
    check(payload.name === 'Sara Berg (tampered)' && header.kid === currentKid, 'tamper: claim or kid');
  }
  {
    const { flow, idToken, header, payload } = await spoiled('expired');
    results.expired = await errorCodeOf(verifyIdToken(ctx, idToken, flow));
    check(results.expired === 'ERR_JWT_EXPIRED', `expired: ${results.expired}`);
    check(payload.exp < Date.now() / 1000 - 3600 && payload.iat < payload.exp && header.kid === currentKid, 'expired: times or kid');
    // Only the times are wrong: at the time it claims, it verifies.
    await verifyIdToken(ctx, idToken, flow, { currentDate: new Date((payload.iat + 1) * 1000) });
  }
  {
    const { flow, idToken, header, payload } = await spoiled('wrong_nonce');
    results.wrong_nonce = await errorCodeOf(verifyIdToken(ctx, idToken, flow));
    check(results.wrong_nonce === 'NONCE_MISMATCH' && payload.nonce === 'not-the-nonce', `wrong_nonce: ${results.wrong_nonce}`);
    check(header.kid === currentKid && payload.groups, 'wrong_nonce: kid or claims');
  }
  {
    const { flow, idToken, payload } = await spoiled('wrong_audience');
    results.wrong_audience = await errorCodeOf(verifyIdToken(ctx, idToken, flow));
    check(results.wrong_audience === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && payload.aud === 'someone-else', `wrong_audience: ${results.wrong_audience}`);
    await verifyIdToken(ctx, idToken, flow, { audience: 'someone-else' }); // signature still good
  }
  {
    const { flow, idToken, payload } = await spoiled('wrong_issuer');
    results.wrong_issuer = await errorCodeOf(verifyIdToken(ctx, idToken, flow));
    check(results.wrong_issuer === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && payload.iss === 'http://evil.example', `wrong_issuer: ${results.wrong_issuer}`);
    await verifyIdToken(ctx, idToken, flow, { issuer: 'http://evil.example' }); // signature still good
  }
  {
    const { flow, idToken, header } = await spoiled('unknown_key');
    results.unknown_key = await errorCodeOf(verifyIdToken(ctx, idToken, flow));
    check(results.unknown_key === 'ERR_JWKS_NO_MATCHING_KEY', `unknown_key: ${results.unknown_key}`);
    check(!(await jwks(ctx)).keys.some((k) => k.kid === header.kid), 'unknown_key: kid is published');
  }
  {
    const { flow, idToken, header, payload } = await spoiled('none_alg');
    results.none_alg = await errorCodeOf(verifyIdToken(ctx, idToken, flow));
    check(header.alg === 'none' && idToken.endsWith('.') && payload.sub === 'sara', 'none_alg: shape');
    check(results.none_alg === 'ERR_JOSE_ALG_NOT_ALLOWED' || results.none_alg === 'ERR_JWS_INVALID', `none_alg: ${results.none_alg}`);
  }
  const off = await postJson(`${issuer}/__test/mischief`, { mode: 'none' });
  check(off.status === 200, 'mischief none');
  const clean = await fullFlow(ctx, client, 'sara');
  checkSaraIdToken((await verifyIdToken(ctx, clean.tokens.id_token, clean.flow)).payload);
  check((await postJson(`${issuer}/__test/mischief`, { mode: 'bogus' })).status === 400, 'a bogus mischief mode was accepted');
  console.log(`mischief: ${Object.entries(results).map(([mode, code]) => `${mode} -> ${code}`).join(', ')}`);

  // 7. Minted access tokens.
  const mint = async (body) => {
    const minted = await postJson(`${issuer}/__test/token`, body);
    check(minted.status === 200 && minted.json.access_token, `token answered ${minted.status}: ${minted.text}`);
    return minted.json.access_token;
  };
  const minted = await checkAccessToken(ctx, await mint({ account: 'sara', audience: 'lots', expires_in: 300, key: 'current' }),
    { account: SARA, kid: currentKid });
  check(minted.client_id === 'test' && minted.scope === 'openid profile' && minted.jti, 'minted token claims');
  check(minted.exp - minted.iat === 300, 'minted token lifetime');
  const mintErrors = {
    unknown: await errorCodeOf(checkAccessToken(ctx, await mint({ account: 'sara', key: 'unknown' }), { account: SARA })),
    expired: await errorCodeOf(checkAccessToken(ctx, await mint({ account: 'sara', expires_in: -60 }), { account: SARA })),
    issuer: await errorCodeOf(checkAccessToken(ctx, await mint({ account: 'sara', issuer: 'http://evil.example' }), { account: SARA })),
    audience: await errorCodeOf(checkAccessToken(ctx, await mint({ account: 'sara', audience: 'other' }), { account: SARA })),
  };
  check(mintErrors.unknown === 'ERR_JWKS_NO_MATCHING_KEY', `mint unknown key: ${mintErrors.unknown}`);
  check(mintErrors.expired === 'ERR_JWT_EXPIRED', `mint expired: ${mintErrors.expired}`);
  check(mintErrors.issuer === 'ERR_JWT_CLAIM_VALIDATION_FAILED', `mint issuer: ${mintErrors.issuer}`);
  check(mintErrors.audience === 'ERR_JWT_CLAIM_VALIDATION_FAILED', `mint audience: ${mintErrors.audience}`);
  check((await postJson(`${issuer}/__test/token`, { account: 'nobody' })).status === 400, 'minting for an unknown account');
  console.log(`minted tokens: current verifies; ${Object.entries(mintErrors).map(([k, v]) => `${k} -> ${v}`).join(', ')}`);
}

// ---------------------------------------------------------------------------------------------

const { child, ready } = startProvider();
let failed = false;
try {
  const issuer = await ready;
  console.log(`provider at ${issuer}`);
  await run({ issuer });
} catch (err) {
  failed = true;
  console.log(`SELFCHECK FAILED: ${err instanceof CheckFailed ? err.message : err.stack}`);
}

// Closing the provider's stdin must end it, as it does when a Rust test drops the child.
const exited = new Promise((resolve) => {
  if (child.exitCode !== null) resolve(child.exitCode);
  else child.once('exit', (code) => resolve(code));
});
child.stdin.end();
const exitCode = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 5000))]);
if (exitCode === 'timeout') {
  child.kill('SIGTERM');
  if (!failed) console.log('SELFCHECK FAILED: the provider did not exit when its stdin closed');
  failed = true;
}

if (failed) process.exit(1);
console.log('SELFCHECK OK');
process.exit(0);
