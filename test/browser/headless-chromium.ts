import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * Flags for a headless Chromium on a closed network: no background traffic (update checks, sync, field trials,
 * component downloads), which would only be refused and slow the start, and no sandbox (tests may run as root).
 */
const FLAGS = [
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--disable-features=OptimizationHints,MediaRouter,Translate',
  '--metrics-recording-only',
  '--mute-audio',
  '--no-pings',
  '--font-render-hinting=none',
];

/**
 * The Chromium that ships inside the `@sparticuz/chromium` npm package (unpacked to /tmp on first use), driven by
 * puppeteer-core: a real browser with nothing to install beyond `npm ci`.
 */
export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    headless: 'shell',
    args: FLAGS,
    defaultViewport: { width: 1360, height: 900 },
    // Talk over a pipe rather than a TCP debugging port: nothing else on the machine can reach it.
    pipe: true,
    protocolTimeout: 60_000,
  });
}
