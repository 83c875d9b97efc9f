// The dashboard page in Debian's chromium, driven by playwright-core: every figure against the
// API's, the progress bar and the overage warning, the chart's axes and points, the badges, the
// CSV download's bytes, German formats, a live update after record_call, 401/429/503 messages,
// labels, keyboard, contrast and 375 px. Run by test/browser/run.sh (which sets GATEWAY_URL,
// LIMITED_URL, UNREACHABLE_URL and the PG* variables). Prints "N passed, N failed".
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const { GATEWAY_URL, LIMITED_URL, UNREACHABLE_URL } = process.env;
const SCREENSHOTS = new URL("../../build/screenshots/", import.meta.url).pathname;
const results = { passed: 0, failed: 0 };

function check(name, condition, detail = "") {
  results[condition ? "passed" : "failed"] += 1;
  console.log(`${condition ? "ok    " : "FAILED"} ${name}${condition ? "" : `   ${JSON.stringify(detail).slice(0, 600)}`}`);
}

function sql(query) {
  return execFileSync("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", query], { encoding: "utf8" }).trim();
}

const newToken = (company, name) => sql(`SELECT token FROM billing.create_api_token(${company}, '${name}')`);

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });

async function openPage({ locale = "en-US", width = 1280, height = 1000, url = GATEWAY_URL } = {}) {
  const context = await browser.newContext({ locale, viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error.message));
  await page.goto(`${url}/dashboard/`);
  return page;
}

async function signIn(page, token) {
  await page.fill("#token", token);
  await page.press("#token", "Enter");
  await page.waitForSelector("#dashboard:not([hidden])", { timeout: 10000 });
}

// What the page must show, computed in the page's browser from the API's JSON (numbers kept as
// the text the server wrote) with Intl directly: the test's own statement of the formats.
async function expectedFigures(page, token) {
  return page.evaluate(async (token) => {
    const get = async (path) => {
      const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      const text = await response.text();
      return JSON.parse(text, (key, value, context) => (typeof value === "number" ? context.source : value)).data;
    };
    const locale = document.documentElement.lang === "de" ? "de-DE" : "en-US";
    const decimals = (text) => (String(text).split(".")[1] || "").length;
    const money = (text, currency) => new Intl.NumberFormat(locale, { style: "currency", currency,
      minimumFractionDigits: decimals(text), maximumFractionDigits: decimals(text) }).format(text);
    const number = (text) => new Intl.NumberFormat(locale, { minimumFractionDigits: Math.min(decimals(text), 2),
      maximumFractionDigits: Math.min(decimals(text), 2) }).format(text);
    const date = (text) => { const [y, m, d] = text.slice(0, 10).split("-").map(Number);
      return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d))); };
    const [current, upcoming, history, payment, trends, plans, forecast, anomalies, analytics] = await Promise.all([
      get("/api/billing/usage/current"), get("/api/billing/upcoming-charges"), get("/api/billing/history"),
      get("/api/billing/payment-methods"), get("/api/billing/usage/trends?months=6"), get("/api/billing/plan-comparison"),
      get("/api/billing/usage/forecast"), get("/api/billing/usage/anomalies?days=28"), get("/api/billing/usage/analytics")]);
    return {
      raw: { current, history, payment, trends },
      text: {
        "calls-total": number(current.calls.total), "calls-completed": number(current.calls.completed),
        "minutes": number(current.calls.total_minutes), "appointments": number(current.appointments.total),
        "cost-so-far": money(current.total_cost, current.currency), "days-remaining": number(current.period.days_remaining),
        "renewal-date": date(upcoming.renewal_date), "next-base-fee": money(upcoming.next_base_fee, upcoming.currency),
        "projected-minutes-cost": money(upcoming.projected_minutes_cost, upcoming.currency),
        "projected-appointments-cost": money(upcoming.projected_appointments_cost, upcoming.currency),
        "projected-total": money(upcoming.projected_total, upcoming.currency),
        "forecast-minutes": number(forecast.minutes.forecast), "forecast-appointments": number(forecast.appointments.forecast),
        "forecast-cost": money(forecast.total_cost.forecast, forecast.currency),
        "cost-per-lead": analytics.cost_per_lead === null ? "–" : money(analytics.cost_per_lead, analytics.currency),
        "forecast-cost-range": forecast.total_cost.low === null ? "–"
          : `${money(forecast.total_cost.low, forecast.currency)} – ${money(forecast.total_cost.high, forecast.currency)}`,
      },
      runOut: forecast.included_minutes_run_out ? date(forecast.included_minutes_run_out) : null,
      anomalies: [...anomalies].reverse().map((row) => [date(row.day), `badge badge-anomaly-${row.kind}`]),
      heatmap: analytics.heatmap.map((day) => day.calls.map((calls) => (calls === "0" ? "" : number(calls)))),
      callsTotal: Number(current.calls.total),
      avgDuration: current.calls.avg_duration === null ? null : number(current.calls.avg_duration),
      overage: current.included_minutes !== null && Number(current.overage_minutes) > 0,
      overageMinutes: number(current.overage_minutes), overageCost: money(current.calls.cost, current.currency),
      included: current.included_minutes !== null,
      historyTotals: history.map((row) => [row.number, money(row.total, row.currency), date(row.issued_at), row.status]),
      plans: plans.map((row) => [row.is_current, money(row.total, row.currency), row.is_current ? "–" : money(row.saving, row.currency)]),
    };
  }, token);
}

const textOf = (page, id) => page.$eval(`#${id}`, (element) => element.textContent.trim());
const visible = (page, selector) => page.$eval(selector, (element) => !element.hidden && element.offsetParent !== null);
const shown = {};

// --- every company: figures, bar and warning, chart, history, payment methods
for (const company of [1, 2, 3, 4, 5, 6]) {
  const token = newToken(company, "browser");
  const page = await openPage();
  check(`company ${company}: first visit shows the token form`, await visible(page, "#sign-in") && !(await visible(page, "#dashboard")));
  await signIn(page, token);
  const expected = await expectedFigures(page, token);
  const mismatches = [];
  for (const [id, text] of Object.entries(expected.text)) {
    const actual = await textOf(page, id);
    if (actual !== text) mismatches.push({ id, actual, expected: text });
  }
  const avg = await textOf(page, "avg-duration");
  if (expected.avgDuration === null ? avg !== "–" : !avg.startsWith(expected.avgDuration)) mismatches.push({ avg, expected: expected.avgDuration });
  const runOut = await textOf(page, "forecast-run-out");
  if (expected.runOut === null ? /\d/.test(runOut) : runOut !== expected.runOut) mismatches.push({ runOut, expected: expected.runOut });
  check(`company ${company}: every figure equals the API's`, mismatches.length === 0, mismatches);
  const bar = await visible(page, "#minutes-progress");
  const warning = await visible(page, "#overage-warning");
  check(`company ${company}: progress bar exactly when minutes are included (${expected.included})`, bar === expected.included);
  check(`company ${company}: overage warning exactly when over the included minutes (${expected.overage})`, warning === expected.overage);
  if (expected.overage) {
    const text = await textOf(page, "overage-warning");
    check(`company ${company}: the warning names the overage minutes and their cost`,
      text.includes(expected.overageMinutes) && text.includes(expected.overageCost), text);
  }
  const chart = await page.evaluate(() => {
    const c = window.Chart.getChart("trends-chart");
    return { axes: Object.fromEntries(Object.entries(c.options.scales).map(([k, v]) => [k, v.position])),
             datasets: c.data.datasets.map((d) => ({ axis: d.yAxisID, points: d.data.length, data: d.data })),
             tooltip: c.options.plugins.tooltip.enabled, responsive: c.options.responsive };
  });
  const apiMinutes = expected.raw.trends.map((row) => Number(row.minutes));
  check(`company ${company}: chart with minutes on the left axis, calls on the right, six points each`,
    chart.axes.y === "left" && chart.axes.y1 === "right" && chart.datasets.length === 2 &&
    chart.datasets[0].axis === "y" && chart.datasets[1].axis === "y1" &&
    chart.datasets.every((d) => d.points === 6) && chart.tooltip && chart.responsive &&
    JSON.stringify(chart.datasets[0].data) === JSON.stringify(apiMinutes), chart);
  const rows = await page.$$eval("#history-rows tr", (trs) => trs.map((tr) => [
    tr.querySelector(".invoice-number").textContent, tr.querySelector(".invoice-total").textContent,
    tr.querySelector(".invoice-issued").textContent, tr.querySelector(".badge").className]));
  check(`company ${company}: history rows equal the API's (number, total, issue date, status badge)`,
    rows.length === expected.historyTotals.length &&
    rows.every((row, i) => row[0] === expected.historyTotals[i][0] && row[1] === expected.historyTotals[i][1] &&
      row[2] === expected.historyTotals[i][2] && row[3] === `badge badge-${expected.historyTotals[i][3]}`),
    { rows, expected: expected.historyTotals });
  const plans = await page.$$eval("#plan-rows tr", (trs) => trs.map((tr) => [tr.classList.contains("current-plan"),
    tr.querySelector(".plan-total").textContent, tr.querySelector(".plan-saving").textContent]));
  check(`company ${company}: plan comparison rows equal the API's (cheapest first, own plan marked)`,
    JSON.stringify(plans) === JSON.stringify(expected.plans) && plans.filter((p) => p[0]).length === 1,
    { plans, expected: expected.plans });
  const anomalies = await page.$$eval("#anomaly-list .anomaly", (items) => items.map((item) =>
    [item.querySelector(".method-name").textContent, item.querySelector(".badge").className]));
  check(`company ${company}: unusual days equal the API's (${expected.anomalies.length})`,
    JSON.stringify(anomalies) === JSON.stringify(expected.anomalies), { anomalies, expected: expected.anomalies });
  const heatmap = await page.$$eval("#heatmap-rows tr", (trs) => trs.map((tr) =>
    [...tr.querySelectorAll("td")].map((td) => td.textContent)));
  check(`company ${company}: the 7 x 24 heatmap equals the API's cells`,
    JSON.stringify(heatmap) === JSON.stringify(expected.heatmap), { heatmap, expected: expected.heatmap });
  const heatmapCalls = heatmap.flat().reduce((sum, cell) => sum + (cell === "" ? 0 : Number(cell.replace(/[.,]/g, ""))), 0);
  check(`company ${company}: the heatmap's calls add up to the period's calls (${expected.callsTotal})`,
    heatmapCalls === expected.callsTotal, { heatmapCalls });
  const methods = await page.$$eval("#payment-methods .method", (items) => items.map((item) => item.textContent));
  check(`company ${company}: payment methods with brand, last four, expiry, default and expired badges`,
    methods.length === expected.raw.payment.methods.length &&
    expected.raw.payment.methods.every((m, i) => methods[i].includes(m.last4) && methods[i].includes(m.expiry) &&
      methods[i].includes("Default") === m.is_default && methods[i].includes("Expired") === m.expired), methods);
  check(`company ${company}: the portal link is the configured URL`,
    (await page.getAttribute("#portal-link", "href")) === "https://billing.example.com/portal");
  shown[company] = Object.fromEntries(await Promise.all(
    ["calls-total", "minutes", "cost-so-far", "projected-total"].map(async (id) => [id, await textOf(page, id)])));
  shown[company].warning = warning;
  check(`company ${company}: no script error`, page.errors.length === 0, page.errors);
  await page.context().close();
}
console.log("what the page showed:", JSON.stringify(shown));

// --- status badges: every status renders, each in its own colour (paid and pending: company 1;
// void: company 2; failed: company 4)
{
  const statuses = new Set(sql("SELECT string_agg(DISTINCT status, ',') FROM billing.invoices WHERE company_id IN (1, 2, 4)").split(","));
  check("the data holds invoices in all four statuses", ["paid", "pending", "failed", "void"].every((s) => statuses.has(s)), [...statuses]);
  const colours = {};
  for (const company of [1, 2, 4]) {
    const page = await openPage();
    await signIn(page, newToken(company, "badges"));
    for (const [className, colour] of await page.$$eval("#history-rows .badge", (items) =>
      items.map((b) => [b.className, getComputedStyle(b).backgroundColor]))) colours[className] = colour;
    await page.context().close();
  }
  check("badges for paid, pending, failed and void, each in its own colour",
    ["paid", "pending", "failed", "void"].every((s) => colours[`badge badge-${s}`]) &&
    new Set(Object.values(colours)).size === Object.keys(colours).length, colours);
}

// --- budget and alerts: the card, the list and the banner equal /api/billing/alerts, and a
// change of state reaches an open page within a poll
{
  const company = 3;
  sql(`INSERT INTO billing.alert_settings (company_id, monthly_budget) VALUES (${company}, 1.00)
       ON CONFLICT (company_id) DO UPDATE SET monthly_budget = excluded.monthly_budget`);
  const token = newToken(company, "alerts");
  const page = await openPage();
  await signIn(page, token);
  const expected = await page.evaluate(async (token) => {
    const response = await fetch("/api/billing/alerts", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    const data = JSON.parse(await response.text(), (key, value, context) => (typeof value === "number" ? context.source : value)).data;
    const decimals = (text) => (String(text).split(".")[1] || "").length;
    const money = (text, currency) => new Intl.NumberFormat("en-US", { style: "currency", currency,
      minimumFractionDigits: decimals(text), maximumFractionDigits: decimals(text) }).format(text);
    const date = (text) => { const [y, m, d] = text.split("-").map(Number);
      return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d))); };
    return { amount: money(data.budget.monthly_budget, data.budget.currency),
             runOut: data.budget.budget_run_out ? date(data.budget.budget_run_out) : null,
             alerts: data.alerts.length,
             firingBudget: data.alerts.filter((a) => a.kind === "budget" && a.state === "firing" &&
                                                     a.period_start === data.budget.period.start).length };
  }, token);
  check("alerts: a budget of 1.00 fired the budget thresholds of the current period at once", expected.firingBudget === 3, expected);
  check("alerts: the budget card shows the budget", (await textOf(page, "budget-amount")) === expected.amount,
    { shown: await textOf(page, "budget-amount"), expected: expected.amount });
  check("alerts: and the day it runs out", expected.runOut !== null && (await textOf(page, "budget-run-out")) === expected.runOut,
    { shown: await textOf(page, "budget-run-out"), expected: expected.runOut });
  const listed = await page.$$eval("#alert-list li .badge", (items) => items.length);
  check("alerts: the list holds every alert of the API", listed === expected.alerts, { listed, expected: expected.alerts });
  const banner = () => page.$eval("#alert-banner", (b) => (b.hidden ? "" : b.textContent));
  check("alerts: the banner names the budget", (await banner()).includes("of the monthly budget"), await banner());
  // Raised far above the usage: each budget alert is resolved at that commit; with a new call,
  // the open page follows within a poll.
  sql(`UPDATE billing.alert_settings SET monthly_budget = 1000000 WHERE company_id = ${company}`);
  sql(`SELECT billing.record_call(${company}, 'alerts-browser-call', now(), 30)`);
  let followed = false;
  for (let i = 0; i < 80 && !followed; i += 1) {
    await page.waitForTimeout(100);
    followed = !(await banner()).includes("of the monthly budget");
  }
  check("alerts: a resolution reaches the open page within a poll", followed, await banner());
  const resolved = await page.$$eval("#alert-list .badge-alert-resolved", (items) => items.length);
  check("alerts: the resolved alerts are badged as such", resolved >= 3, resolved);
  check("alerts: no script error", page.errors.length === 0, page.errors);
  sql(`DELETE FROM billing.alert_settings WHERE company_id = ${company}`);
  await page.context().close();
}

// --- sorting, period detail, CSV download, screenshots (English, desktop)
{
  const token = newToken(1, "detail");
  const page = await openPage();
  await signIn(page, token);
  const issuedOrder = () => page.$$eval("#history-rows .invoice-number", (cells) => cells.map((c) => c.textContent));
  const newestFirst = await issuedOrder();
  await page.focus("#sort-issued");
  await page.keyboard.press("Enter");
  const oldestFirst = await issuedOrder();
  check("history sorts by date with the keyboard (Enter on the column's button)",
    JSON.stringify(oldestFirst) === JSON.stringify([...newestFirst].reverse()) &&
    (await page.getAttribute("#issued-header", "aria-sort")) === "ascending", { newestFirst, oldestFirst });
  await page.click("#sort-issued");
  await page.screenshot({ path: `${SCREENSHOTS}dashboard-en-desktop.png`, fullPage: true });
  const firstRow = await page.$("#history-rows tr");
  const number = await firstRow.$eval(".invoice-number", (c) => c.textContent);
  await firstRow.$eval(".show-detail", (b) => b.click());
  await page.waitForSelector("#period-detail:not([hidden])");
  const periodId = sql(`SELECT billing_period_id FROM billing.invoices WHERE number = '${number}'`);
  const lines = await page.$$eval("#detail-lines tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const apiLines = JSON.parse(sql(`SELECT billing.period_detail(${periodId})->'charges'`));
  check("period detail: one row per invoice line, with the API's descriptions",
    lines.length === apiLines.length && apiLines.every((line, i) => lines[i][0] === line.description), { lines, apiLines });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
  const downloaded = readFileSync(await download.path());
  const apiCsv = Buffer.from(await (await fetch(`${GATEWAY_URL}/api/billing/period/${periodId}/download`,
    { headers: { Authorization: `Bearer ${token}` } })).arrayBuffer());
  check("CSV download: the file's bytes equal the API's", downloaded.equals(apiCsv) && downloaded.length > 100,
    { downloaded: downloaded.length, api: apiCsv.length });
  check("CSV download: named by the gateway", download.suggestedFilename() === `billing-period-${periodId}.csv`,
    download.suggestedFilename());
  await page.screenshot({ path: `${SCREENSHOTS}dashboard-en-detail.png`, fullPage: true });

  // Labels and names: every control is labelled, every button has a name.
  const unlabeled = await page.evaluate(() => [
    ...[...document.querySelectorAll("input, select")].filter((e) => e.labels.length === 0).map((e) => e.id),
    ...[...document.querySelectorAll("button, a[href]")].filter((e) => e.offsetParent !== null &&
      !(e.getAttribute("aria-label") || e.textContent.trim())).map((e) => e.outerHTML)]);
  check("accessibility: every input and select has a label, every button and link a name", unlabeled.length === 0, unlabeled);
  const contrast = await page.evaluate(() => {
    const rgb = (text) => text.match(/[\d.]+/g).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => {
      const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const background = (element) => {
      for (let e = element; e; e = e.parentElement) {
        const color = getComputedStyle(e).backgroundColor;
        if (color !== "rgba(0, 0, 0, 0)" && color !== "transparent") return rgb(color);
      }
      return [255, 255, 255];
    };
    const low = [];
    for (const element of document.querySelectorAll("h1, h2, dt, dd, th, td, .badge, button, a, p, label, span")) {
      if (element.offsetParent === null || !element.textContent.trim()) continue;
      const a = luminance(rgb(getComputedStyle(element).color)), b = luminance(background(element));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) low.push([element.tagName, element.className, element.textContent.slice(0, 30), ratio.toFixed(2)]);
    }
    return low;
  });
  check("accessibility: text contrast at least 4.5:1 everywhere", contrast.length === 0, contrast);
  await page.context().close();
}

// --- German: the browser's language, German formats; the switch
{
  const page = await openPage({ locale: "de-DE" });
  await signIn(page, newToken(1, "german"));
  const lang = await page.getAttribute("html", "lang");
  const title = await textOf(page, "current-title");
  const cost = await textOf(page, "cost-so-far");
  const totals = await page.$$eval("#history-rows .invoice-total", (cells) => cells.map((c) => c.textContent));
  const issued = await page.$$eval("#history-rows .invoice-issued", (cells) => cells.map((c) => c.textContent));
  check("German by Accept-Language: lang=de and German words", lang === "de" && title === "Aktuelle Periode", { lang, title });
  check("German money: 1.234,56 € style", /^\d{1,3}(\.\d{3})*,\d{2}\u00a0€$/.test(cost) &&
    totals.every((t) => /^\d{1,3}(\.\d{3})*,\d{2}\u00a0€$/.test(t)), { cost, totals });
  check("German dates: DD.MM.YYYY", issued.every((d) => /^\d{2}\.\d{2}\.\d{4}$/.test(d)), issued);
  const expected = await expectedFigures(page, newToken(1, "german-check"));
  const actual = {};
  for (const id of Object.keys(expected.text)) actual[id] = await textOf(page, id);
  check("German page: every figure equals the API's in German format",
    Object.entries(expected.text).every(([id, text]) => actual[id] === text), { actual, expected: expected.text });
  await page.screenshot({ path: `${SCREENSHOTS}dashboard-de-desktop.png`, fullPage: true });
  await page.selectOption("#language", "en");
  check("the switch turns the page English", (await textOf(page, "current-title")) === "Current period" &&
    (await page.getAttribute("html", "lang")) === "en");
  await page.context().close();
}
{
  const page = await openPage({ locale: "en-US" });
  await signIn(page, newToken(4, "usd"));
  const cost = await textOf(page, "cost-so-far");
  check("English, USD company: $1,234.56 style", /^\$\d{1,3}(,\d{3})*\.\d{2}$/.test(cost), cost);
  await page.context().close();
}
{
  const page = await openPage({ locale: "en-US" });
  await signIn(page, newToken(6, "yen"));
  const cost = await textOf(page, "cost-so-far");
  check("English, JPY company: ¥1,235 style (no decimals)", /^¥\d{1,3}(,\d{3})*$/.test(cost), cost);
  await page.context().close();
}

// --- 375 px, both languages
for (const [locale, language] of [["en-US", "en"], ["de-DE", "de"]]) {
  const page = await openPage({ locale, width: 375, height: 812 });
  await signIn(page, newToken(5, `narrow-${language}`));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(`375 px (${language}): no horizontal scrolling of the page`, overflow <= 0, overflow);
  await page.screenshot({ path: `${SCREENSHOTS}dashboard-${language}-375.png`, fullPage: true });
  await page.context().close();
}

// --- live: a record_call shows on the card within 5 seconds, without a reload
{
  const page = await openPage();
  await signIn(page, newToken(3, "live"));
  const before = await textOf(page, "calls-total");
  let navigated = false;
  page.on("framenavigated", () => { navigated = true; });
  const started = Date.now();
  sql("SELECT billing.record_call(3, 'live-browser-call', now() - interval '1 second', 240, 'completed')");
  let after = before;
  while (Date.now() - started < 5000 && after === before) {
    await page.waitForTimeout(100);
    after = await textOf(page, "calls-total");
  }
  const seconds = (Date.now() - started) / 1000;
  check(`live update: the card changed from ${before} to ${after} in ${seconds.toFixed(1)} s, no reload`,
    after !== before && seconds <= 5 && !navigated, { before, after, seconds });
  await page.context().close();
}

// --- 401 (a bad token, a revoked token), 429, 503: a clear message
{
  const page = await openPage();
  await page.fill("#token", "1|notavalidtokennotavalidtokennotavalidtoken");
  await page.press("#token", "Enter");
  await page.waitForSelector("#message:not([hidden])");
  check("401: a wrong token shows the token form with a message",
    (await visible(page, "#sign-in")) && (await textOf(page, "message")).includes("not accepted"));
  const token = newToken(1, "revoked-later");
  await signIn(page, token);
  sql(`SELECT billing.revoke_api_token(${token.split("|")[0]})`);
  await page.click("#refresh");
  await page.waitForSelector("#sign-in:not([hidden])", { timeout: 10000 });
  check("401: a token revoked while the page is open brings the token form back",
    (await textOf(page, "message")).includes("not accepted") && !(await visible(page, "#dashboard")));
  check("the token is kept in sessionStorage only, never in the URL",
    !page.url().includes("|") && (await page.evaluate(() => localStorage.getItem("billing.token"))) === null);
  await page.context().close();
}
{
  const page = await openPage({ url: LIMITED_URL });
  await page.fill("#token", newToken(1, "limited"));
  await page.press("#token", "Enter");
  await page.waitForSelector("#message:not([hidden])", { timeout: 10000 });
  check("429: a message that says to wait", (await textOf(page, "message")).startsWith("Too many requests"),
    await textOf(page, "message"));
  await page.context().close();
}
{
  const page = await openPage({ url: UNREACHABLE_URL });
  await page.fill("#token", newToken(1, "unreachable"));
  await page.press("#token", "Enter");
  await page.waitForSelector("#message:not([hidden])", { timeout: 15000 });
  check("503: a message that the service is unavailable", (await textOf(page, "message")).includes("unavailable"),
    await textOf(page, "message"));
  await page.context().close();
}
{
  // The gateway's access log never shows a token (they travel in the Authorization header).
  const log = readFileSync(new URL("../../build/browser_main.log", import.meta.url), "utf8");
  const secrets = sql("SELECT count(*) FROM billing.api_tokens");
  check(`the gateway's log holds no token (${secrets} tokens used)`, !/\|[A-Za-z0-9]{40,}/.test(log));
}

await browser.close();
console.log(`${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed ? 1 : 0);
