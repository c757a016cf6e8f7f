/** Headless Debian Chromium for the tests that render our HTML files (no browser download). */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags Chromium keeps trying to reach the network, refused here. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Launches Chromium before the enclosing describe block's tests and closes it after them. */
export function chromiumForSuite(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (browser === undefined)
      throw new Error('Chromium is not running: call chromiumForSuite() in a describe block');
    return browser;
  };
}

/** Opens an HTML file in a new page, collecting every console error, page error and failed request. */
export async function openFile(browser: Browser, file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors };
}

/** Each chart's (`figure.chart`, by its data-chart) count of drawn marks: paths, lines, texts, rects. */
export function drawnMarks(page: Page): Promise<Record<string, number>> {
  return page.$$eval('figure.chart', (figures) =>
    Object.fromEntries(
      figures.map((f) => [
        f.getAttribute('data-chart'),
        f.querySelectorAll(
          'svg g.role-mark > path, svg g.role-mark > line, svg g.role-mark > text, svg g.role-mark > rect',
        ).length,
      ]),
    ),
  );
}
