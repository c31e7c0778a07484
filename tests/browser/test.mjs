// The web pages in a real browser: an officer registers a case, moves it and sends a
// consultation; an officer of the other department accepts and completes it; the case is
// decided, the company answers the survey, and the manager's dashboard shows the result.
// axe-core runs on every page visited; serious or critical violations fail the test.
// Screenshots go to tests/browser/screenshots/. Run through ./run.sh. The contexts bypass the
// pages' Content-Security-Policy only so that axe-core can be injected.

import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.LOTS_BASE_URL;
const PASSWORD = process.env.LOTS_DEMO_PASSWORD;
const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
assert.ok(BASE && PASSWORD, 'LOTS_BASE_URL and LOTS_DEMO_PASSWORD must be set (run.sh sets them)');
mkdirSync(SHOTS, { recursive: true });

let shot = 0;
const violations = [];

/** Runs axe-core on the page and saves a screenshot. */
async function check(page, name, expectedLang = 'sv') {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    violations.push(`${name} (${page.url()}): ${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  }
  const lang = await page.getAttribute('html', 'lang');
  assert.equal(lang, expectedLang, `${name}: lang="${expectedLang}"`);
  shot += 1;
  await page.screenshot({ path: `${SHOTS}${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
  console.log(`  ✓ ${name}: ${result.violations.length} axe findings, ${bad.length} serious/critical`);
}

async function login(browser, username) {
  const context = await browser.newContext({ locale: 'sv-SE', timezoneId: 'Europe/Stockholm', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${BASE}/logga-in`);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/logga-in')), page.click('button[type=submit]')]);
  return { context, page };
}

/** Presses Tab until the focused element matches `selector` (the keyboard alone). */
async function tabTo(page, selector, max = 80) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector} on ${page.url()}`);
}

/** Types into the field `selector`, reached by Tab. */
async function typeInto(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.type(text);
}

/** Presses Enter on the focused element and waits for the next page. */
async function enter(page) {
  await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), page.keyboard.press('Enter')]);
}

/** The page needs no sideways scrolling at its viewport's width. */
async function fits(page, name, width) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= width, `${name}: ${w}px wide in a ${width}px viewport`);
}

async function submit(page, formSelector) {
  await Promise.all([page.waitForLoadState('load'), page.locator(`${formSelector} button[type=submit]`).click()]);
  await page.waitForLoadState('load');
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

try {
  // The login page itself.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${BASE}/`);
    assert.match(new URL(page.url()).pathname, /^\/logga-in/);
    await check(page, 'logga-in');
    await context.close();
  }

  console.log('anna (SBF) registers a case, moves it and sends a consultation to MHF');
  const anna = await login(browser, 'anna');
  let page = anna.page;
  assert.equal(new URL(page.url()).pathname, '/arenden');
  assert.ok(await page.getByRole('heading', { name: 'Mina ärenden' }).isVisible());
  await check(page, 'mina-arenden');

  await page.goto(`${BASE}/arenden/nytt`);
  await check(page, 'registrera');
  // Bad input first: the form comes back with the field's error and keeps the typed values.
  await page.fill('#f-org_number', '556036-0794');
  await page.fill('#f-company_name', 'Webbtest Restaurang AB');
  await page.selectOption('#f-area', 'building_permit');
  await page.click('form[action="/arenden/nytt"] button[type=submit]');
  await page.waitForSelector('#f-org_number-error');
  assert.equal(await page.inputValue('#f-company_name'), 'Webbtest Restaurang AB');
  assert.ok(await page.isVisible('#f-title-error'));
  assert.equal(await page.getAttribute('#f-title', 'aria-invalid'), 'true');
  await check(page, 'registrera-fel');
  await page.fill('#f-org_number', '556036-0793');
  await page.fill('#f-title', 'Nybyggnad av restaurang (webbtest)');
  await page.fill('#f-description', 'Ansökan om bygglov för restaurang med uteservering.');
  await page.click('form[action="/arenden/nytt"] button[type=submit]');
  await page.waitForSelector('text=Ärendet är registrerat.');
  const caseUrl = page.url().split('?')[0];
  const reference = (await page.locator('h1').innerText()).split(' ').slice(0, 2).join(' ');
  assert.match(reference, /^BN \d{4}\/\d{4}$/);
  console.log(`  registered ${reference} at ${caseUrl}`);
  await check(page, 'arende-registrerat');

  await page.selectOption('#status-to', 'in_progress');
  await page.fill('#status-reason', 'Ansökan är komplett');
  await submit(page, 'form[action$="/status"]');
  await page.waitForSelector('text=Statusen är ändrad.');
  assert.ok((await page.locator('dl.facts').first().innerText()).includes('Under handläggning'));

  await page.fill('#note-text', 'Ringde sökanden om ritningarna.');
  await submit(page, 'form[action$="/anteckning"]');
  await page.waitForSelector('text=Anteckningen är sparad.');

  await page.selectOption('#ho-to_department', 'MHF');
  await page.selectOption('#ho-kind', 'consultation');
  await page.fill('#ho-message', 'Yttrande om ventilation och fettavskiljare önskas.');
  await submit(page, 'form[action$="/overlamning"]');
  await page.waitForSelector('text=Överlämningen är skickad.');
  await check(page, 'arende-remiss-skickad');

  await page.goto(`${BASE}/arenden/sok?q=${encodeURIComponent('webbtest')}`);
  assert.ok((await page.content()).includes(reference));
  await check(page, 'sok');

  console.log('omar (MHF) accepts and completes the consultation');
  const omar = await login(browser, 'omar');
  page = omar.page;
  await page.goto(`${BASE}/overlamningar`);
  await check(page, 'overlamningar-inkorg');
  const row = page.locator('tr', { hasText: reference });
  await Promise.all([page.waitForLoadState('load'), row.getByRole('button', { name: 'Acceptera' }).click()]);
  await page.waitForSelector('text=Överlämningen är accepterad.');
  const row2 = page.locator('tr', { hasText: reference });
  await row2.locator('textarea[name=response]').fill('Inga synpunkter om fettavskiljare installeras.');
  await Promise.all([page.waitForLoadState('load'), row2.getByRole('button', { name: 'Slutför' }).click()]);
  await page.waitForSelector('text=Överlämningen är slutförd.');
  await check(page, 'overlamningar-slutford');
  await page.goto(caseUrl);
  await check(page, 'arende-mottagare');
  await omar.context.close();

  console.log('anna decides the case');
  page = anna.page;
  await page.goto(caseUrl);
  assert.ok((await page.content()).includes('Inga synpunkter om fettavskiljare installeras.'));
  await page.selectOption('#status-to', 'decided');
  await page.selectOption('#status-decision', 'approved');
  await page.fill('#status-reason', 'Uppfyller kraven i PBL');
  await submit(page, 'form[action$="/status"]');
  await page.waitForSelector('text=Statusen är ändrad.');
  const timeline = await page.locator('ol.timeline').innerText();
  for (const text of ['Registrerat', 'Status ändrad', 'Anteckning', 'Överlämning begärd', 'Överlämning accepterad', 'Överlämning slutförd', 'Beslut: Bifall']) {
    assert.ok(timeline.includes(text), `the timeline shows ${text}`);
  }
  await check(page, 'arende-beslutat');
  await page.goto(`${BASE}/foretag?org=556036-0793`);
  assert.ok((await page.content()).includes(reference));
  await check(page, 'foretag');
  await page.goto(`${BASE}/samordnade`);
  await check(page, 'samordnade');
  await anna.context.close();

  console.log('the company answers the survey (its link from the admin invitation export)');
  const api = await (await browser.newContext({ bypassCSP: true })).request;
  const tokenResponse = await api.post(`${BASE}/api/v1/auth/token`, { data: { username: 'admin', password: PASSWORD } });
  assert.equal(tokenResponse.status(), 200);
  const { access_token: adminToken } = await tokenResponse.json();
  let surveyUrl;
  for (let i = 0; i < 60 && !surveyUrl; i += 1) {
    const csv = await (await api.get(`${BASE}/api/v1/survey-invitations/pending.csv`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
    const line = csv.split(/\r?\n/).find((l) => l.startsWith(`${reference};`));
    if (line) surveyUrl = line.split(';').at(-1);
    else await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(surveyUrl, 'the worker created the survey invitation');
  {
    const context = await browser.newContext({ bypassCSP: true });
    const survey = await context.newPage();
    await survey.goto(surveyUrl);
    await check(survey, 'enkat');
    for (const [name, value] of [['q_overall', 9], ['q_expectations', 8], ['q_ideal', 8], ['information', 5], ['accessibility', 5], ['treatment', 6], ['competence', 5], ['legal_certainty', 5], ['efficiency', 4]]) {
      await survey.check(`#${name}-${value}`);
    }
    await Promise.all([survey.waitForLoadState('load'), survey.click('button[type=submit]')]);
    await survey.waitForSelector('text=Tack för ditt svar!');
    await check(survey, 'enkat-tack');
    await context.close();
  }

  console.log('anna writes to the company; the company follows the case by its link and answers');
  {
    const annaLogin = await api.post(`${BASE}/api/v1/auth/token`, { data: { username: 'anna', password: PASSWORD } });
    const { access_token: annaToken } = await annaLogin.json();
    const caseId = caseUrl.split('/').at(-1);
    const written = await api.post(`${BASE}/api/v1/cases/${caseId}/messages`, {
      headers: { authorization: `Bearer ${annaToken}` },
      data: { text: 'Beslutet är fattat. Hör av er om ni har frågor.' },
    });
    assert.equal(written.status(), 201);
    const link = await api.post(`${BASE}/api/v1/cases/${caseId}/follow-links`, { headers: { authorization: `Bearer ${annaToken}` } });
    assert.equal(link.status(), 201);
    const { token } = await link.json();
    const context = await browser.newContext({ locale: 'sv-SE', timezoneId: 'Europe/Stockholm', bypassCSP: true });
    const company = await context.newPage();
    await company.goto(`${BASE}/folj/${token}`);
    const followed = await company.content();
    assert.ok(followed.includes(reference) && followed.includes('Beslutet är fattat.'));
    assert.ok(!followed.includes('Ringde sökanden om ritningarna.'), 'an internal note is never shown');
    await check(company, 'folj');
    // With the keyboard: type in the message field, Tab to the button, Enter.
    await company.focus('#message-text');
    await company.keyboard.type('Tack! Vi har fått beslutet.');
    await company.keyboard.press('Tab');
    await Promise.all([company.waitForLoadState('load'), company.keyboard.press('Enter')]);
    await company.waitForSelector('text=Tack! Vi har fått beslutet.');
    await check(company, 'folj-meddelande');
    // The same page in English, from its language link.
    await Promise.all([company.waitForLoadState('load'), company.getByRole('link', { name: 'In English' }).click()]);
    assert.ok((await company.content()).includes('What do we need from you?'));
    await check(company, 'folj-engelska', 'en');
    await context.close();
  }

  console.log('a company applies through an e-service with the keyboard alone, 320 px wide');
  {
    const context = await browser.newContext({ locale: 'sv-SE', timezoneId: 'Europe/Stockholm', bypassCSP: true, viewport: { width: 320, height: 740 } });
    const company = await context.newPage();
    await company.goto(`${BASE}/e-tjanster`);
    await check(company, 'e-tjanster');
    await fits(company, 'e-tjanster', 320);
    await tabTo(company, 'a[href="/e-tjanster/livsmedelsanlaggning"]');
    await enter(company);
    assert.ok((await company.content()).includes('Steg 1 av 3'));
    await check(company, 'ansokan-steg-1');
    await fits(company, 'ansokan-steg-1', 320);
    await typeInto(company, '#f-org_number', '559012-3450');
    await typeInto(company, '#f-company_name', 'Strandvägens Glass AB');
    await typeInto(company, '#f-contact_name', 'Mira Strand');
    await typeInto(company, '#f-contact_email', 'mira@');
    await enter(company);
    // The mistake is shown beside its field and in the summary at the top.
    assert.ok((await company.content()).includes('Ange en e-postadress'));
    await check(company, 'ansokan-fel');
    await tabTo(company, '#f-contact_email');
    await company.keyboard.press('End');
    await company.keyboard.type('strandvagensglass.example.se');
    await enter(company);
    assert.ok((await company.content()).includes('Steg 2 av 3'));
    await typeInto(company, '#f-property', 'Haninge Strand 3:7');
    await typeInto(company, '#f-address', 'Strandvägen 2, 136 50 Haninge');
    await tabTo(company, '#f-food_business-0');
    await company.keyboard.press('Space');
    await tabTo(company, '#f-start_date');
    await company.fill('#f-start_date', '2027-05-01');
    await typeInto(company, '#f-description', 'Glasskiosk med egen tillverkning.');
    await check(company, 'ansokan-steg-2');
    await tabTo(company, 'button[value=next]:not(.hp)');
    await enter(company);
    assert.ok((await company.content()).includes('Steg 3 av 3'));
    await check(company, 'ansokan-steg-3');
    await tabTo(company, 'button[value=next]:not(.hp)');
    await enter(company);
    const summary = await company.content();
    assert.ok(summary.includes('Granska innan du skickar') && summary.includes('559012-3450') && summary.includes('Restaurang eller café'));
    await check(company, 'ansokan-sammanfattning');
    await fits(company, 'ansokan-sammanfattning', 320);
    await tabTo(company, 'button[value=send]');
    await enter(company);
    const receipt = await company.content();
    assert.ok(receipt.includes('Tack, vi har tagit emot din ansökan') && /MHN \d{4}\/\d{4}/.test(receipt), receipt);
    await check(company, 'ansokan-kvitto');
    await tabTo(company, 'a.button');
    await enter(company);
    assert.ok(new URL(company.url()).pathname.startsWith('/folj/'));
    await check(company, 'ansokan-folj');
    await company.goto(`${BASE}/e-tjanster/bygglov?lang=en`);
    assert.ok((await company.content()).includes('Application for a building permit'));
    await check(company, 'ansokan-engelska', 'en');
    await context.close();
  }

  console.log('a company representative signs in with e-legitimation, follows her cases and applies signed in');
  {
    const context = await browser.newContext({ locale: 'sv-SE', timezoneId: 'Europe/Stockholm', bypassCSP: true });
    const rep = await context.newPage();
    await rep.goto(`${BASE}/mina-arenden`);
    await check(rep, 'mina-arenden-logga-in');
    await Promise.all([
      rep.waitForURL((u) => u.pathname.startsWith('/interaction/')),
      rep.getByRole('link', { name: 'Logga in med e-legitimation' }).click(),
    ]);
    // The e-ID broker's own page (the test provider's, not Lots'): the account to sign in as.
    await rep.fill('input[name=login]', process.env.LOTS_COMPANY_LOGIN || 'kim');
    await Promise.all([
      rep.waitForURL((u) => u.pathname === '/mina-arenden' && u.origin === BASE),
      rep.press('input[name=login]', 'Enter'),
    ]);
    const mine = await rep.content();
    assert.ok(mine.includes('Kim Kontaktsson') && /BN \d{4}\/\d{4}/.test(mine), 'her cases');
    await check(rep, 'mina-arenden');
    await Promise.all([rep.waitForLoadState('load'), rep.locator('main table a').first().click()]);
    await check(rep, 'mina-arenden-arende');
    await Promise.all([rep.waitForLoadState('load'), rep.getByRole('link', { name: 'In English' }).click()]);
    await check(rep, 'mina-arenden-arende-engelska', 'en');

    await rep.goto(`${BASE}/e-tjanster/miljofarlig-verksamhet`);
    assert.ok((await rep.content()).includes('inloggad med e-legitimation'));
    await rep.fill('#f-org_number', '556074-7569');
    await rep.fill('#f-company_name', 'Söderby Krog AB');
    await rep.fill('#f-contact_name', 'Kim Kontaktsson');
    await rep.fill('#f-contact_email', 'kim.kontaktsson@example.se');
    await Promise.all([rep.waitForLoadState('load'), rep.click('button[value=next]:not(.hp)')]);
    await rep.fill('#f-property', 'Haninge Söderby 1:23');
    await rep.fill('#f-address', 'Söderbyvägen 4, 136 91 Haninge');
    await rep.fill('#f-start_date', '2027-04-01');
    await rep.fill('#f-description', 'Fettavskiljare till restaurangköket.');
    await Promise.all([rep.waitForLoadState('load'), rep.click('button[value=next]:not(.hp)')]);
    await Promise.all([rep.waitForLoadState('load'), rep.click('button[value=next]:not(.hp)')]);
    await Promise.all([rep.waitForLoadState('load'), rep.click('button[value=send]')]);
    const receipt = await rep.content();
    const sent = receipt.match(/MHN \d{4}\/\d{4}/);
    assert.ok(sent, receipt);
    await rep.goto(`${BASE}/mina-arenden`);
    assert.ok((await rep.content()).includes(sent[0]), 'the application is among her cases');
    await check(rep, 'mina-arenden-med-ansokan');
    await context.close();
  }

  console.log('maria (SBF manager) sees the result on the dashboard');
  const maria = await login(browser, 'maria');
  page = maria.page;
  assert.equal(new URL(page.url()).pathname, '/oversikt');
  await check(page, 'oversikt');
  const today = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm' }).format(new Date());
  await page.fill('#d-from', today);
  await page.fill('#d-to', today);
  await page.selectOption('#d-area', 'building_permit');
  await Promise.all([page.waitForURL((u) => u.search.includes('from=')), page.click('form.filters button[type=submit]')]);
  const summary = await page.locator('main p', { hasText: 'Urvalet har' }).innerText();
  const answered = Number(summary.match(/(\d+) med enkätsvar/)[1]);
  assert.ok(answered >= 1, `the answered case is counted: ${summary}`);
  assert.ok((await page.content()).includes('Fristefterlevnad'));
  await check(page, 'oversikt-i-dag');
  // The export buttons work with the session cookie.
  const csvHref = await page.locator('a', { hasText: 'Ärenden som CSV' }).getAttribute('href');
  const csv = await page.request.get(`${BASE}${csvHref.replaceAll('&amp;', '&')}`);
  assert.equal(csv.status(), 200);
  assert.ok((await csv.text()).includes(reference), 'the CSV export holds the case');
  const ocelHref = await page.locator('a', { hasText: 'OCEL' }).getAttribute('href');
  const ocel = await page.request.get(`${BASE}${ocelHref.replaceAll('&amp;', '&')}`);
  assert.equal(ocel.status(), 200);
  // The board's report: a page that prints on A4 without the navigation, and its workbook.
  await page.goto(`${BASE}/oversikt`);
  await Promise.all([page.waitForLoadState('load'), page.click('a[href="/oversikt/rapport"]')]);
  assert.ok((await page.locator('h1').innerText()).startsWith('Rapport till nämnden'));
  await check(page, 'rapport');
  const xlsxHref = await page.locator('a', { hasText: 'Excel' }).getAttribute('href');
  const xlsx = await page.request.get(`${BASE}${xlsxHref}`);
  assert.equal(xlsx.status(), 200);
  assert.ok((await xlsx.body()).subarray(0, 2).toString() === 'PK', 'an xlsx is a zip');
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.locator('header.top').isHidden(), 'the navigation is not printed');
  assert.ok(await page.locator('form.filters').isHidden(), 'the year form is not printed');
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.ok(pages >= 3 && pages <= 12, `the report prints on a few A4 pages: ${pages}`);
  await page.screenshot({ path: `${SHOTS}rapport-utskrift.png`, fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  await page.goto(`${BASE}/arenden/sok`);
  await check(page, 'chef-arenden');
  await maria.context.close();
} finally {
  await browser.close();
}

if (violations.length) {
  console.error(`axe-core: ${violations.length} serious or critical violations:\n${violations.join('\n')}`);
  process.exit(1);
}
console.log('browser test passed');
