// The API reference at /docs in a real browser: Swagger UI renders every
// operation of the contract, takes a bearer token in its Authorize dialog,
// and "Try it out" creates an order against the same service.
//
//   EXPECT_OPERATIONS='["GET /healthz", ...]' TOKEN=<staff token> \
//     node test/browser/docs.mjs <base-url> <artifact-dir>
//
// EXPECT_OPERATIONS lists every operation of api/openapi.yaml as
// "METHOD path" (cmd/orderapi/browser_test.go reads them from the spec);
// TOKEN is a bearer token that may create orders.
import { randomUUID } from 'node:crypto';
import { run } from './harness.mjs';

const expected = JSON.parse(process.env.EXPECT_OPERATIONS || '[]');
const token = process.env.TOKEN || '';

await run('docs', async ({ page, base, screenshot }) => {
  if (expected.length === 0 || token === '') {
    throw new Error('set EXPECT_OPERATIONS and TOKEN');
  }

  // Given the reference, rendered
  await page.goto(`${base}/docs`);
  await page.locator('.swagger-ui .information-container .title').filter({ hasText: 'orderapi' }).waitFor();
  await page.locator('.opblock').first().waitFor();

  // Then it lists every operation of the contract, and no other
  const listed = await page.$$eval('.opblock', (blocks) =>
    blocks.map((b) => `${b.querySelector('.opblock-summary-method').textContent.trim()} ${b.querySelector('.opblock-summary-path').dataset.path}`),
  );
  const missing = expected.filter((op) => !listed.includes(op));
  const extra = listed.filter((op) => !expected.includes(op));
  if (missing.length > 0 || extra.length > 0 || listed.length !== expected.length) {
    throw new Error(`operations: missing ${JSON.stringify(missing)}, not in the spec ${JSON.stringify(extra)}, ${listed.length} listed for ${expected.length}`);
  }
  await screenshot('docs');

  // When a developer authorizes with a bearer token
  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.modal-ux');
  await dialog.locator('h4', { hasText: 'bearerAuth' }).waitFor();
  await dialog.locator('input#auth-bearer-value').fill(token);
  await dialog.locator('button.authorize').click();
  await dialog.locator('button', { hasText: 'Logout' }).waitFor();
  await screenshot('docs-authorized');
  await dialog.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'detached' });

  // and creates an order with "Try it out" on POST /v1/orders
  const create = page.locator('#operations-orders-createOrder');
  await create.locator('.opblock-summary').click();
  const tryOut = create.locator('button.try-out__btn');
  if ((await tryOut.textContent()).trim() === 'Try it out') {
    await tryOut.click();
  }
  // (twice: the form must not send one Idempotency-Key with both)
  for (const shot of ['docs-created', 'docs-created-again']) {
    const customer = randomUUID();
    await create.locator('textarea.body-param__text').fill(JSON.stringify({ customer_id: customer }, null, 2));
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/orders');
    await create.locator('button.execute').click();

    // Then the service created it, and the page shows the 201 and the order
    const resp = await answer;
    if (resp.status() !== 201 || resp.request().headers().authorization !== `Bearer ${token}`) {
      throw new Error(`POST /v1/orders from the page: ${resp.status()} ${await resp.text()}; Authorization ${resp.request().headers().authorization ? 'sent' : 'missing'}`);
    }
    const live = create.locator('.live-responses-table .response');
    await live.locator('.response-col_status', { hasText: '201' }).waitFor();
    await live.locator('.response-col_description', { hasText: customer }).waitFor();
    await live.scrollIntoViewIfNeeded();
    await screenshot(shot);
  }

  // And the token was kept in the page only, not in the browser's storage
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  if (stored.includes(token.slice(-16))) {
    throw new Error('the token was stored in the browser');
  }
});
