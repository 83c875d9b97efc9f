// Saves a screenshot of one company's dashboard: node scripts/dashboard_screenshot.mjs URL TOKEN FILE
// (Debian's chromium through playwright-core from web/node_modules). The demo runs it; its output
// for company 1 is docs/dashboard.png.
import { createRequire } from "node:module";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const [url, token, file] = process.argv.slice(2);

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
await page.goto(`${url}/dashboard/`);
await page.fill("#token", token);
await page.press("#token", "Enter");
await page.waitForSelector("#dashboard:not([hidden])", { timeout: 15000 });
await page.screenshot({ path: file, fullPage: true });
await browser.close();
