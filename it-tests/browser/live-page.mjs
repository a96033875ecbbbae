// Drives the scorestream live page in Debian's headless Chromium: picks a sampler and a step count, presses
// Generate, waits until at least three previews have been drawn and the result has arrived, and saves a screenshot
// of the final scatter. Exits 0 on success; 1 with a message on stderr otherwise; 2 on bad usage.
//
//   node live-page.mjs URL SCREENSHOT.png [--sampler KIND] [--steps N] [--count N] [--seed N]
//                      [--min-previews N] [--timeout-ms N] [--token TOKEN] [--chromium PATH]
//                      [--page-screenshot PAGE.png] [--labels "0 1 2"] [--guidance W] [--model NAME]
//
// --model picks one of the node's models in the page's model menu (shown when the node serves several).
// Prints REQUEST_ID=..., PREVIEWS_DRAWN=..., STATE=..., SHAPE=... (the node's sample shape) and CANVAS_LEVELS=...
// (distinct red levels on the final canvas) on stdout for the calling test.
import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const USAGE = 'usage: node live-page.mjs URL SCREENSHOT.png [--sampler KIND] [--steps N] [--count N] '
  + '[--seed N] [--min-previews N] [--timeout-ms N] [--token TOKEN] [--chromium PATH] [--page-screenshot PAGE.png] '
  + '[--labels "0 1 2"] [--guidance W] [--model NAME] [--inpaint top|bottom|left|right]';

function parseArgs(argv) {
  const positional = [];
  const options = {
    sampler: 'pc', steps: '1000', count: '1024', seed: '42', 'min-previews': '3', 'timeout-ms': '120000',
    token: '', chromium: '/usr/bin/chromium', 'page-screenshot': '', labels: '', guidance: '', model: '', inpaint: ''
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      if (!(key in options) || i + 1 >= argv.length) throw new Error('unknown or incomplete option ' + a);
      options[key] = argv[++i];
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 2) throw new Error('expected URL and SCREENSHOT, got ' + positional.length + ' arguments');
  if (!['pc', 'ode', 'ald', 'ddim', 'dpmpp-2m', 'dpmpp-2m-sde', 'edm'].includes(options.sampler)) {
    throw new Error('--sampler must be pc, ode, ald, ddim, dpmpp-2m, dpmpp-2m-sde or edm');
  }
  for (const k of ['steps', 'count', 'min-previews', 'timeout-ms']) {
    if (!/^[0-9]+$/.test(options[k])) throw new Error('--' + k + ' must be a non-negative integer');
  }
  return { url: positional[0], screenshot: resolve(positional[1]), ...options };
}

function fail(message) {
  console.error('live-page: ' + message);
  process.exitCode = 1;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error('live-page: ' + e.message + '\n' + USAGE);
    process.exitCode = 2;
    return;
  }
  try {
    await stat(args.chromium);
  } catch (e) {
    fail('no Chromium at ' + args.chromium + ': run it-tests/setup-browser.sh (as root) to install Debian\'s chromium');
    return;
  }

  const profile = await mkdtemp(join(tmpdir(), 'scorestream-chromium-'));
  let context;
  const pageErrors = [];
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: Number(args['timeout-ms'])
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(Number(args['timeout-ms']));
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push('console: ' + m.text());
    });

    const response = await page.goto(args.url, { waitUntil: 'load' });
    if (!response || !response.ok()) {
      fail('the page did not load: ' + (response ? 'HTTP ' + response.status() : 'no response') + ' from ' + args.url);
      return;
    }
    // The page asks the node for its sample shape on load and adapts its defaults; wait for that first.
    await page.waitForFunction(() => document.body.dataset.shape !== undefined);
    if (args.model) {
      if (await page.isHidden('#model-field')) {
        fail('the page offers no model menu (does the node serve several models?)');
        return;
      }
      await page.selectOption('#model', args.model);
      await page.waitForFunction((m) => document.body.dataset.model === m, args.model);
    }
    await page.selectOption('#sampler', args.sampler);
    if (args.labels) await page.fill('#labels', args.labels);
    if (args.guidance) await page.fill('#guidance', args.guidance);
    await page.fill('#steps', args.steps);
    await page.fill('#count', args.count);
    await page.fill('#seed', args.seed);
    if (args.token) await page.fill('#token', args.token);
    if (args.inpaint) {
      // Draws a "1" down the middle of the pad with the mouse, then keeps the given half of it.
      if (await page.isHidden('#inpainting')) {
        fail('the page offers no inpainting (is the model an image model?)');
        return;
      }
      const box = await page.locator('#pad').boundingBox();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
      await page.mouse.down();
      for (let k = 1; k <= 20; k++) {
        await page.mouse.move(box.x + box.width * (0.5 - 0.004 * k), box.y + box.height * (0.15 + 0.035 * k));
      }
      await page.mouse.up();
      await page.selectOption('#keep', args.inpaint);
    }
    await page.click('#generate');

    // The request ends in one of these states; the page sets body[data-state].
    await page.waitForFunction(() => ['completed', 'failed', 'cancelled'].includes(document.body.dataset.state));
    const outcome = await page.evaluate(() => ({
      state: document.body.dataset.state,
      previews: Number(document.getElementById('previews').dataset.count),
      requestId: document.getElementById('request-id').textContent,
      error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
      result: document.getElementById('result').textContent,
      shape: document.body.dataset.shape,
      model: document.body.dataset.model || '',
      previewForm: document.body.dataset.previewForm || '',
      // Distinct grey levels on the canvas: a drawn grid of digits has many, an empty grid one.
      levels: (() => {
        const c = document.getElementById('canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4) seen.add(d[i]);
        return seen.size;
      })()
    }));
    console.log('REQUEST_ID=' + outcome.requestId);
    console.log('PREVIEWS_DRAWN=' + outcome.previews);
    console.log('STATE=' + outcome.state);
    console.log('RESULT=' + outcome.result);
    console.log('SHAPE=' + outcome.shape);
    console.log('MODEL=' + outcome.model);
    console.log('CANVAS_LEVELS=' + outcome.levels);
    console.log('PREVIEW_FORM=' + outcome.previewForm);
    if (args.inpaint) {
      const sent = await page.evaluate(() => window.lastRequestBody);
      console.log('INPAINT_BODY=' + JSON.stringify({ known: sent.known || null, mask: sent.mask || null }));
    }
    console.log('PAGE_ERROR=' + outcome.error.replace(/\n/g, ' '));
    if (outcome.state !== 'completed') {
      fail('the request ended ' + outcome.state + (outcome.error ? ': ' + outcome.error : ''));
      return;
    }
    if (outcome.previews < Number(args['min-previews'])) {
      fail('only ' + outcome.previews + ' preview(s) were drawn before the result; expected at least '
        + args['min-previews'] + ' (a larger --steps or --count gives the page more time)');
      return;
    }
    if (pageErrors.length > 0) {
      fail('the page reported errors:\n  ' + pageErrors.join('\n  '));
      return;
    }
    await mkdir(dirname(args.screenshot), { recursive: true });
    await page.locator('#canvas').screenshot({ path: args.screenshot });
    console.log('SCREENSHOT=' + args.screenshot);
    if (args['page-screenshot']) {
      const whole = resolve(args['page-screenshot']);
      await mkdir(dirname(whole), { recursive: true });
      await page.screenshot({ path: whole, fullPage: true });
      console.log('PAGE_SCREENSHOT=' + whole);
    }
  } catch (e) {
    const errors = pageErrors.length ? '\npage errors:\n  ' + pageErrors.join('\n  ') : '';
    fail(String(e && e.stack ? e.stack : e) + errors);
  } finally {
    if (context) await context.close().catch(() => {});
    await rm(profile, { recursive: true, force: true }).catch(() => {});
  }
}

await main();
