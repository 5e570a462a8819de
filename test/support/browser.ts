/**
 * The console tests' browser: headless Chromium from `@sparticuz/chromium` driven by
 * `puppeteer-core`, each page checked with axe-core and photographed into .data/screenshots.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { expect } from 'vitest';

/** The browser global the page function below uses (this project compiles without the DOM library). */
declare const window: { readonly axe: typeof import('axe-core') };

export const SCREENSHOTS = join(process.cwd(), '.data', 'screenshots');
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Launches Chromium with its profile under `dataDir`, and makes the screenshot folder. */
export async function launchBrowser(dataDir: string): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    headless: 'shell',
    userDataDir: join(dataDir, 'chromium-profile'),
    // A locale the page can format numbers in (the machine's C locale reads as "en-US@posix").
    env: { ...process.env, LANG: 'en_US.UTF-8' },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--no-zygote',
      '--lang=en-US',
    ],
  });
}

export interface AccessibilityFinding {
  readonly id: string;
  readonly impact: string;
  readonly nodes: number;
}

/**
 * Runs axe-core on the page, logs every finding whatever its impact (for the record,
 * docs/console.md), and fails on a serious or critical one.
 */
export async function checkAccessibility(
  page: Page,
  what: string,
): Promise<AccessibilityFinding[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run({ exclude: [] }, { resultTypes: ['violations'] });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? '',
      nodes: violation.nodes.length,
    }));
  });
  console.info(`axe ${what}: ${JSON.stringify(violations)}`);
  expect(
    violations.filter((violation) => ['serious', 'critical'].includes(violation.impact)),
    `${what}: ${JSON.stringify(violations)}`,
  ).toEqual([]);
  return violations;
}

/** Opens `url` in a new page, expects 200, checks it with axe-core, photographs it. */
export async function visitPage(
  browser: Browser,
  url: string,
  screenshot: string,
  what: string,
): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const response = await page.goto(url, { waitUntil: 'load' });
  expect(response?.status(), what).toBe(200);
  await checkAccessibility(page, what);
  await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}.png`), fullPage: true });
  return page;
}

export const textOf = (page: Page, selector: string) =>
  page.$eval(selector, (element) => element.textContent ?? '');
