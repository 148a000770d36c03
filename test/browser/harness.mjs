// The harness of orderapi's browser tests: Debian's Chromium driven by
// playwright-core (which downloads no browser), every sign of a broken
// page collected, full-page screenshots kept for a person to look at.
//
// A test script is `node test/browser/NAME.mjs <base-url> <artifact-dir>`:
//
//   import { run } from './harness.mjs';
//   await run('name', async ({ page, base, screenshot }) => {
//     await page.goto(base + '/path');
//     ...                      // throw to fail
//     await screenshot('name'); // <artifact-dir>/name.png, the full page
//   });
//
// run fails the script (exit code 1, each problem on stderr) on any
// console message of type error or warning, any uncaught error in a page,
// any request that fails, any answer of 400 or more (unless the script
// expects it: problems.expect, which also lets through the browser's own
// console report of that answer; problems.expectAborted for a request the
// page cancels itself, such as a stream it closes), and any request to
// another origin than base's.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// Debian's package; CHROMIUM names another build.
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// The flags keep Chromium to the page: no sandbox (the tests run as root),
// no GPU, and none of the browser's own connections (updates, sync, field
// trials, safe browsing), which would reach other hosts.
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

// launch starts Chromium; the caller closes it.
export function launch() {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

// Problems collects what went wrong in the pages of a browser context.
export class Problems {
  #list = [];
  #expected = [];
  #aborted = [];

  // watch records the problems of every page of context, and of requests
  // leaving it for another origin than base's.
  watch(context, base) {
    const origin = new URL(base).origin;
    context.on('page', (page) => this.watchPage(page));
    context.on('request', (req) => {
      const url = new URL(req.url());
      if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.origin !== origin) {
        this.add(`request to another origin: ${req.method()} ${req.url()}`);
      }
    });
    context.on('requestfailed', (req) => {
      const what = `${req.method()} ${new URL(req.url()).pathname}`;
      if (req.failure()?.errorText === 'net::ERR_ABORTED' && this.#aborted.includes(what)) return;
      this.add(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
    });
    context.on('response', (resp) => {
      const what = `${resp.request().method()} ${new URL(resp.url()).pathname}`;
      if (resp.status() >= 400 && !this.#expected.some((e) => e.what === what && e.status === resp.status())) {
        this.add(`answer ${resp.status()}: ${what}`);
      }
    });
  }

  watchPage(page) {
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') {
        const loc = msg.location();
        if (this.#reportsExpected(msg.text(), loc?.url)) return;
        this.add(`console ${msg.type()}: ${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
      }
    });
    page.on('pageerror', (err) => this.add(`page error: ${err.stack || err}`));
    page.on('crash', () => this.add('the page crashed'));
  }

  // expect lets answers of status to "METHOD /path" pass, for a script
  // that checks a refusal on purpose, and the browser's console report of
  // them ("Failed to load resource: ... status of 404").
  expect(what, status) {
    this.#expected.push({ what, status });
  }

  // expectAborted lets requests to "METHOD /path" that the page cancels
  // itself (net::ERR_ABORTED) pass: a live stream it closes.
  expectAborted(what) {
    this.#aborted.push(what);
  }

  #reportsExpected(text, url) {
    const m = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
    if (!m || !url) return false;
    const path = new URL(url).pathname;
    return this.#expected.some((e) => e.status === Number(m[1]) && e.what.endsWith(` ${path}`));
  }

  add(problem) {
    this.#list.push(problem);
  }

  get list() {
    return [...this.#list];
  }
}

// run runs one browser test: argv names the service's base URL and the
// folder for screenshots. test gets a page (of a fresh context), the base
// URL, screenshot(name), and problems; it throws to fail. The process
// exits 1 when test threw or any problem was seen, after a screenshot of
// the page as it was then.
export async function run(name, test) {
  const [base, artifacts] = process.argv.slice(2);
  if (!base || !artifacts) {
    console.error(`usage: node ${name}.mjs <base-url> <artifact-dir>`);
    process.exit(2);
  }
  await mkdir(artifacts, { recursive: true });
  const problems = new Problems();
  const browser = await launch();
  let failed = false;
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    problems.watch(context, base);
    const page = await context.newPage();
    const screenshot = async (shot, p = page, options = {}) => {
      const path = join(artifacts, `${shot}.png`);
      await p.screenshot({ path, fullPage: true, ...options });
      console.log(`screenshot: ${path}`);
    };
    try {
      await test({ page, context, base, screenshot, problems });
    } catch (err) {
      failed = true;
      console.error(`${name}: ${err.stack || err}`);
      await screenshot(`${name}-failed`).catch((e) => console.error(`no screenshot: ${e}`));
    }
    await context.close();
  } finally {
    await browser.close();
  }
  for (const p of problems.list) {
    console.error(`${name}: ${p}`);
  }
  if (failed || problems.list.length > 0) {
    process.exit(1);
  }
  console.log(`${name}: ok`);
}
