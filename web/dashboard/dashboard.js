// The customer dashboard: reads the gateway's API with the token kept in sessionStorage and
// renders the cards. Every value is put into the page as text (never as HTML). Live updates are
// conditional polls of /api/billing/usage/current (If-None-Match): an unchanged card costs a
// 304, and no connection is held open between polls.
"use strict";

(() => {
  const POLL_MS = 3000;  // the card follows new usage within this (plus one request)
  const ALERTS_EVERY = 10;  // polls between two looks at the alerts when the usage did not change
  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem("billing.token"),
    language: chooseLanguage(),
    data: {},
    etag: null,
    sortDescending: true,
    pollTimer: null,
    chart: null,
    detail: null,
  };
  let format = makeFormat(state.language);

  class ApiError extends Error {
    constructor(status, retryAfter) {
      super(`HTTP ${status}`);
      this.status = status;
      this.retryAfter = Number(retryAfter) || 5;
    }
  }

  // JSON with every number kept as the text the server wrote (174.00 stays "174.00").
  function parseExact(text) {
    return JSON.parse(text, (key, value, context) =>
      typeof value === "number" ? (context && context.source !== undefined ? context.source : String(value)) : value);
  }

  async function request(path, etag) {
    const headers = { Authorization: `Bearer ${state.token}` };
    if (etag) headers["If-None-Match"] = etag;
    const response = await fetch(path, { headers, cache: "no-store" });
    if (response.status === 304) return { notModified: true };
    if (!response.ok) throw new ApiError(response.status, response.headers.get("Retry-After"));
    return { response, etag: response.headers.get("ETag") };
  }

  async function api(path, etag) {
    const result = await request(path, etag);
    if (result.notModified) return result;
    return { data: parseExact(await result.response.text()).data, etag: result.etag };
  }

  function showMessage(text) {
    $("message").textContent = text;
    $("message").hidden = !text;
  }

  function handleError(error) {
    if (!(error instanceof ApiError)) {
      showMessage(format.text("unavailable"));
      schedulePoll(5000);
      return;
    }
    if (error.status === 401) {
      signOut();
      showMessage(format.text("unauthorized"));
    } else if (error.status === 403) {
      showMessage(format.text("forbidden"));
    } else if (error.status === 409) {
      showMessage(format.text("noPlan"));
    } else if (error.status === 429) {
      showMessage(format.text("rateLimited", { seconds: error.retryAfter }));
      schedulePoll(error.retryAfter * 1000);
    } else if (error.status === 503) {
      showMessage(format.text("unavailable"));
      schedulePoll(error.retryAfter * 1000);
    } else {
      showMessage(format.text("failedRequest", { status: error.status }));
    }
  }

  function setText(id, text) {
    $(id).textContent = text;
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  // --- the cards

  function renderCurrent() {
    const usage = state.data.current;
    if (!usage) return;
    const currency = usage.currency;
    setText("period-range", format.text("periodRange",
      { start: format.date(usage.period.start), end: format.date(usage.period.end) }));
    setText("calls-total", format.number(usage.calls.total));
    setText("calls-completed", format.number(usage.calls.completed));
    setText("minutes", format.number(usage.calls.total_minutes));
    setText("appointments", format.number(usage.appointments.total));
    setText("avg-duration", usage.calls.avg_duration === null ? "–"
      : format.text("minutesUnit", { value: format.number(usage.calls.avg_duration) }));
    setText("cost-so-far", format.money(usage.total_cost, currency));
    setText("days-remaining", format.number(usage.period.days_remaining));

    // A bar only where the plan includes minutes; the warning exactly when usage exceeds them.
    const included = usage.included_minutes !== null && usage.included_minutes !== undefined;
    $("minutes-progress").hidden = !included;
    if (included) {
      const percent = Number(usage.usage_percentage);
      $("progress-bar").style.width = `${Math.min(percent, 100)}%`;
      $("progress").setAttribute("aria-valuenow", String(Math.min(percent, 100)));
      $("progress").classList.toggle("over", Number(usage.overage_minutes) > 0);
      setText("progress-label", format.text("progressLabel", {
        used: format.number(usage.calls.total_minutes), included: format.number(usage.included_minutes),
        percent: format.number(usage.usage_percentage),
      }));
    }
    const over = included && Number(usage.overage_minutes) > 0;
    $("overage-warning").hidden = !over;
    if (over) {
      setText("overage-warning", format.text("overage",
        { minutes: format.number(usage.overage_minutes), cost: format.money(usage.calls.cost, currency) }));
    }
  }

  function renderTrends() {
    const rows = state.data.trends;
    if (!rows) return;
    const labels = rows.map((row) => format.month(row.month));
    const minutes = rows.map((row) => Number(row.minutes));
    const calls = rows.map((row) => Number(row.calls));
    $("trends-chart").setAttribute("aria-label", format.text("chartLabel"));
    if (state.chart) {
      state.chart.data.labels = labels;
      state.chart.data.datasets[0].data = minutes;
      state.chart.data.datasets[0].label = format.text("chartMinutes");
      state.chart.data.datasets[1].data = calls;
      state.chart.data.datasets[1].label = format.text("chartCalls");
      state.chart.options.locale = format.locale;
      state.chart.update();
      return;
    }
    state.chart = new Chart($("trends-chart"), {
      type: "line",
      data: {
        labels,
        datasets: [
          { label: format.text("chartMinutes"), data: minutes, yAxisID: "y", borderColor: "rgb(37, 99, 235)",
            backgroundColor: "rgba(37, 99, 235, 0.15)", tension: 0.2 },
          { label: format.text("chartCalls"), data: calls, yAxisID: "y1", borderColor: "rgb(4, 120, 87)",
            backgroundColor: "rgba(4, 120, 87, 0.15)", tension: 0.2, borderDash: [6, 3] },
        ],
      },
      options: {
        responsive: true,
        animation: false,  // no motion, and a screenshot shows the final chart
        maintainAspectRatio: false,
        locale: format.locale,
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip: { enabled: true }, legend: { position: "bottom" } },
        scales: {
          y: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "min" } },
          y1: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                ticks: { precision: 0 } },
        },
      },
    });
  }

  function renderUpcoming() {
    const upcoming = state.data.upcoming;
    if (!upcoming) return;
    setText("renewal-date", format.date(upcoming.renewal_date));
    setText("next-base-fee", format.money(upcoming.next_base_fee, upcoming.currency));
    setText("projected-minutes-cost", format.money(upcoming.projected_minutes_cost, upcoming.currency));
    setText("projected-appointments-cost", format.money(upcoming.projected_appointments_cost, upcoming.currency));
    setText("projected-total", format.money(upcoming.projected_total, upcoming.currency));
  }

  // A table row of text cells: [text, class name] pairs.
  function textRow(className, cells) {
    const row = document.createElement("tr");
    row.className = className;
    for (const [value, cellClass] of cells) {
      const td = document.createElement("td");
      td.className = cellClass;
      td.textContent = value;
      row.append(td);
    }
    return row;
  }

  function badge(text, kind) {
    const element = document.createElement("span");
    element.className = `badge badge-${kind}`;
    element.textContent = text;
    return element;
  }

  function renderPayment() {
    const payment = state.data.payment;
    if (!payment) return;
    const list = $("payment-methods");
    list.replaceChildren();
    for (const method of payment.methods) {
      const item = document.createElement("li");
      item.className = "method";
      item.dataset.methodId = method.id;
      const name = document.createElement("span");
      name.className = "method-name";
      name.textContent = `${method.brand} •••• ${method.last4}`;
      const expiry = document.createElement("span");
      expiry.className = "method-expiry subtle";
      expiry.textContent = format.text("expires", { expiry: method.expiry });
      item.append(name, expiry);
      if (method.is_default) item.append(badge(format.text("default"), "default"));
      if (method.expired) item.append(badge(format.text("expired"), "expired"));
      list.append(item);
    }
    if (payment.methods.length === 0) {
      const item = document.createElement("li");
      item.className = "subtle";
      item.textContent = format.text("noMethods");
      list.append(item);
    }
    const portal = safeUrl(payment.portal_url);
    $("portal-link").hidden = !portal;
    if (portal) $("portal-link").href = portal;
  }

  function renderHistory() {
    const invoices = state.data.history;
    if (!invoices) return;
    const rows = [...invoices].sort((a, b) =>
      (state.sortDescending ? -1 : 1) * (a.issued_at < b.issued_at ? -1 : a.issued_at > b.issued_at ? 1 : 0));
    const body = $("history-rows");
    body.replaceChildren();
    for (const invoice of rows) {
      const row = document.createElement("tr");
      row.dataset.invoiceId = invoice.invoice_id;
      const cell = (content, className) => {
        const td = document.createElement("td");
        if (className) td.className = className;
        if (content instanceof Node) td.append(content); else td.textContent = content;
        row.append(td);
        return td;
      };
      cell(invoice.number, "invoice-number");
      cell(format.text("periodRange", { start: format.date(invoice.period_start), end: format.date(invoice.period_end) }),
        "invoice-period");
      cell(format.date(invoice.issued_at), "invoice-issued");
      cell(format.money(invoice.total, invoice.currency), "number invoice-total");
      cell(badge(format.text(invoice.status), invoice.status), "invoice-status");
      const pdf = safeUrl(invoice.pdf_url);
      if (pdf) {
        const link = document.createElement("a");
        link.href = pdf;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        link.textContent = format.text("download");
        link.setAttribute("aria-label", `${format.text("pdf")} ${invoice.number}`);
        cell(link, "invoice-pdf");
      } else {
        cell("–", "invoice-pdf");
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "show-detail";
      button.textContent = format.text("showDetails");
      button.setAttribute("aria-label", `${format.text("details")} ${invoice.number}`);
      button.addEventListener("click", () => openDetail(invoice.period_id));
      cell(button);
      body.append(row);
    }
    $("history-empty").hidden = invoices.length > 0;
    $("issued-header").setAttribute("aria-sort", state.sortDescending ? "descending" : "ascending");
    setText("sort-arrow", state.sortDescending ? "↓" : "↑");
    $("sort-issued").setAttribute("aria-label",
      format.text(state.sortDescending ? "sortDescending" : "sortAscending"));
  }

  function renderDetail() {
    const detail = state.detail;
    if (!detail) return;
    setText("detail-range", format.text("periodStatus", {
      start: format.date(detail.period.start), end: format.date(detail.period.end), status: format.text(detail.status),
    }));
    const body = $("detail-lines");
    body.replaceChildren();
    for (const line of detail.charges) {
      body.append(textRow(`line line-${line.kind}`, [
        [line.description, ""],
        [line.quantity === null || line.quantity === undefined ? "–" : format.number(line.quantity), "number"],
        [line.unit_price === null || line.unit_price === undefined ? "–" : format.money(line.unit_price, detail.currency), "number"],
        [format.money(line.amount, detail.currency), "number amount"],
      ]));
    }
  }

  function renderForecast() {
    const forecast = state.data.forecast;
    if (!forecast) return;
    const currency = forecast.currency;
    const range = (low, high, show) => (low === null || high === null ? "–" : format.text("range", { low: show(low), high: show(high) }));
    setText("forecast-minutes", format.number(forecast.minutes.forecast));
    setText("forecast-minutes-range", range(forecast.minutes.low, forecast.minutes.high, format.number));
    setText("forecast-appointments", format.number(forecast.appointments.forecast));
    setText("forecast-cost", format.money(forecast.total_cost.forecast, currency));
    setText("forecast-cost-range", range(forecast.total_cost.low, forecast.total_cost.high, (v) => format.money(v, currency)));
    setText("forecast-run-out", forecast.included_minutes_run_out ? format.date(forecast.included_minutes_run_out)
      : format.text("notExpected"));
    setText("forecast-method", forecast.method === "weekday"
      ? format.text("methodWeekday", { days: forecast.history_days, linear: format.money(forecast.total_cost.linear, currency) })
      : format.text("methodLinear"));
  }

  function renderAnomalies() {
    const anomalies = state.data.anomalies;
    if (!anomalies) return;
    const list = $("anomaly-list");
    list.replaceChildren();
    for (const anomaly of [...anomalies].reverse()) {
      const item = document.createElement("li");
      item.className = "method anomaly";
      const day = document.createElement("span");
      day.className = "method-name";
      day.textContent = format.date(anomaly.day);
      const line = document.createElement("span");
      line.className = "subtle";
      line.textContent = format.text("anomalyLine",
        { minutes: format.number(anomaly.minutes), baseline: format.number(anomaly.baseline) });
      item.append(day, badge(format.text(anomaly.kind), `anomaly-${anomaly.kind}`), line);
      list.append(item);
    }
    if (anomalies.length === 0) {
      const item = document.createElement("li");
      item.className = "subtle";
      item.textContent = format.text("noAnomalies");
      list.append(item);
    }
  }

  // A ratio as the API wrote it ("0.1176") as a percentage ("11.76"), by moving the decimal
  // point: no binary float in between.
  function percentText(ratio) {
    const [whole, fraction = ""] = String(ratio).replace("-", "").split(".");
    const shifted = whole + fraction.slice(0, 2).padEnd(2, "0");
    const integer = shifted.replace(/^0+(?=\d)/, "");
    const rest = fraction.slice(2);
    return (String(ratio).startsWith("-") ? "-" : "") + (rest ? `${integer}.${rest}` : integer);
  }

  function clock(seconds) {
    const whole = Math.round(Number(seconds));
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  }

  function renderAnalytics() {
    const analytics = state.data.analytics;
    if (!analytics) return;
    setText("analytics-range", format.text("periodRange",
      { start: format.date(analytics.range.from), end: format.date(analytics.range.to) }));
    setText("conversion-rate", analytics.conversion_rate === null ? "–" : `${format.number(percentText(analytics.conversion_rate))} %`);
    setText("cost-per-lead", format.money(analytics.cost_per_lead, analytics.currency));
    const length = analytics.call_length;
    setText("average-call", length.average_seconds === null ? "–" : clock(length.average_seconds));
    setText("median-call", length.median_seconds === null ? "–"
      : format.text("lengthRange", { low: clock(length.median_seconds.at_least), high: clock(length.median_seconds.below) }));
    const weekdays = format.text("weekdays").split(",");
    const short = format.text("weekdaysShort").split(",");
    setText("peak-hour", analytics.peak === null ? format.text("noPeak") : format.text("peakHour", {
      weekday: weekdays[analytics.peak.weekday - 1], hour: format.text("hourRange", { hour: analytics.peak.hour }),
      calls: format.number(analytics.peak.calls),
    }));

    const hours = $("heatmap-hours");
    hours.replaceChildren();
    const corner = document.createElement("th");
    corner.scope = "col";
    corner.textContent = format.text("hourHeader");
    hours.append(corner);
    for (let hour = 0; hour < 24; hour++) {
      const th = document.createElement("th");
      th.scope = "col";
      th.className = "number";
      th.textContent = String(hour);
      hours.append(th);
    }
    // Five shades, from the busiest cell down; counts are whole numbers.
    const most = Math.max(1, ...analytics.heatmap.flatMap((day) => day.calls.map(Number)));
    const body = $("heatmap-rows");
    body.replaceChildren();
    for (const day of analytics.heatmap) {
      const row = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = short[day.weekday - 1];
      th.title = weekdays[day.weekday - 1];
      row.append(th);
      day.calls.forEach((calls, hour) => {
        const td = document.createElement("td");
        const count = Number(calls);
        td.className = `number heat heat-${count === 0 ? 0 : Math.ceil((4 * count) / most)}`;
        td.textContent = count === 0 ? "" : format.number(calls);
        td.title = `${weekdays[day.weekday - 1]} ${format.text("hourRange", { hour })}: ${format.number(calls)}`;
        row.append(td);
      });
      body.append(row);
    }
  }

  function renderPlans() {
    const plans = state.data.plans;
    if (!plans) return;
    setText("plans-intro", format.text("plansIntro", { periods: plans.length ? plans[0].periods_priced : 0 }));
    const body = $("plan-rows");
    body.replaceChildren();
    for (const plan of plans) {
      body.append(textRow(plan.is_current ? "plan current-plan" : "plan", [
        [plan.is_current ? format.text("currentPlan") : plan.name, "plan-name"],
        [plan.pricing_model ? format.text(plan.pricing_model) : "–", "plan-model"],
        [format.money(plan.total, plan.currency), "number plan-total"],
        [plan.is_current ? "–" : format.money(plan.saving, plan.currency), "number plan-saving"],
      ]));
    }
  }

  // The budget card, the recent alerts, and a banner for the alerts firing in the current period.
  function renderAlerts() {
    const alerts = state.data.alerts;
    if (!alerts) return;
    const budget = alerts.budget;
    const hasBudget = budget.monthly_budget !== null;
    $("no-budget").hidden = hasBudget;
    $("budget-figures").hidden = !hasBudget;
    if (hasBudget) {
      setText("budget-amount", format.money(budget.monthly_budget, budget.currency));
      setText("budget-projected", format.money(budget.projected_total, budget.currency));
      setText("budget-run-out", budget.budget_run_out ? format.date(budget.budget_run_out) : format.text("budgetNotReached"));
      const percent = Number(budget.used_percent);  // the bar's width only; the figures stay text
      $("budget-bar").style.width = `${Math.min(percent, 100)}%`;
      $("budget-progress").setAttribute("aria-valuenow", String(Math.min(percent, 100)));
      $("budget-progress").classList.toggle("over", percent >= 100);
      setText("budget-label", format.text("budgetLabel", {
        used: format.money(budget.total_cost, budget.currency), budget: format.money(budget.monthly_budget, budget.currency),
        percent: format.number(budget.used_percent),
      }));
    }
    $("spend-cap").hidden = budget.cap_amount === null;
    if (budget.cap_amount !== null) setText("spend-cap", format.text("spendCap", { cap: format.money(budget.cap_amount, budget.currency) }));
    const describe = (alert) => format.text(alert.kind, { threshold: format.number(alert.threshold) });
    const list = $("alert-list");
    list.replaceChildren();
    const current = alerts.alerts.filter((alert) => alert.period_start === budget.period.start);
    for (const alert of alerts.alerts) {
      const item = document.createElement("li");
      const what = document.createElement("span");
      what.textContent = describe(alert);
      const line = document.createElement("span");
      line.className = "subtle";
      line.textContent = format.text("alertLine", {
        period: format.text("periodRange", { start: format.date(alert.period_start), end: format.date(alert.period_end) }),
        value: format.number(alert.value),
      });
      // Active and resolved say what holds now: for an ended period, a firing alert was reached.
      const ended = alert.period_start !== budget.period.start;
      const state = ended && alert.state === "firing" ? "reached" : alert.state;
      what.className = "alert-what";
      line.classList.add("alert-when");
      item.append(what, badge(format.text(state), `alert-${state}`), line);
      list.append(item);
    }
    if (current.length === 0) {
      const item = document.createElement("li");
      item.className = "subtle";
      item.textContent = format.text("noAlerts");
      list.prepend(item);
    }
    const firing = current.filter((alert) => alert.state === "firing");
    $("alert-banner").hidden = firing.length === 0;
    if (firing.length > 0) setText("alert-banner", format.text("alertBanner", { alert: firing.map(describe).join("; ") }));
  }

  function renderAll() {
    renderAlerts();
    renderCurrent();
    renderTrends();
    renderUpcoming();
    renderPayment();
    renderForecast();
    renderAnomalies();
    renderAnalytics();
    renderPlans();
    renderHistory();
    renderDetail();
  }

  // --- loading, polling, details

  async function loadAll() {
    showMessage("");
    try {
      const [current, trends, upcoming, payment, history, plans, forecast, anomalies, analytics, alerts] = await Promise.all([
        api("/api/billing/usage/current"),
        api("/api/billing/usage/trends?months=6"),
        api("/api/billing/upcoming-charges"),
        api("/api/billing/payment-methods"),
        api("/api/billing/history"),
        api("/api/billing/plan-comparison"),
        api("/api/billing/usage/forecast"),
        api("/api/billing/usage/anomalies?days=28"),
        api("/api/billing/usage/analytics"),
        api("/api/billing/alerts"),
      ]);
      state.data = { current: current.data, trends: trends.data, upcoming: upcoming.data,
                     payment: payment.data, history: history.data, plans: plans.data, forecast: forecast.data,
                     anomalies: anomalies.data, analytics: analytics.data, alerts: alerts.data };
      state.etag = current.etag;
      state.alertsEtag = alerts.etag;
      showDashboard(true);
      renderAll();
      schedulePoll(POLL_MS);
    } catch (error) {
      handleError(error);
    }
  }

  function schedulePoll(delay) {
    clearTimeout(state.pollTimer);
    if (!state.token) return;
    state.pollTimer = setTimeout(poll, delay);
  }

  async function poll() {
    if (document.hidden || !state.token) return schedulePoll(POLL_MS);
    try {
      if (!state.data.current) return loadAll();
      const result = await api("/api/billing/usage/current", state.etag);
      if (!result.notModified) {
        state.data.current = result.data;
        state.etag = result.etag;
        renderCurrent();
      }
      // Alerts change with the usage (then at once), or with their settings (then every
      // ALERTS_EVERY polls): 25 of the token's 60 requests a minute for both.
      state.polls = (state.polls || 0) + 1;
      if (!result.notModified || state.polls % ALERTS_EVERY === 0) {
        const alerts = await api("/api/billing/alerts", state.alertsEtag);
        if (!alerts.notModified) {
          state.data.alerts = alerts.data;
          state.alertsEtag = alerts.etag;
          renderAlerts();
        }
      }
      showMessage("");
      schedulePoll(POLL_MS);
    } catch (error) {
      handleError(error);
    }
  }

  async function openDetail(periodId) {
    try {
      const result = await api(`/api/billing/period/${encodeURIComponent(periodId)}`);
      state.detail = result.data;
      state.detail.id = periodId;
      renderDetail();
      $("period-detail").hidden = false;
      $("period-detail").focus();
    } catch (error) {
      handleError(error);
    }
  }

  async function downloadCsv() {
    if (!state.detail) return;
    try {
      const result = await request(`/api/billing/period/${encodeURIComponent(state.detail.id)}/download`);
      const blob = await result.response.blob();
      const disposition = result.response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = match ? match[1] : `billing-period-${state.detail.id}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      handleError(error);
    }
  }

  // --- signing in and out, language

  function showDashboard(visible) {
    $("dashboard").hidden = !visible;
    $("sign-in").hidden = visible;
    $("refresh").hidden = !visible;
    $("sign-out").hidden = !visible;
  }

  function signOut() {
    clearTimeout(state.pollTimer);
    state.token = null;
    state.data = {};
    state.detail = null;
    sessionStorage.removeItem("billing.token");
    $("period-detail").hidden = true;
    showDashboard(false);
    showMessage("");
    $("token").focus();
  }

  function applyLanguage() {
    format = makeFormat(state.language);
    document.documentElement.lang = state.language;
    document.title = format.text("title");
    $("language").value = state.language;
    for (const element of document.querySelectorAll("[data-text]")) element.textContent = format.text(element.dataset.text);
    renderAll();
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    state.token = token;
    sessionStorage.setItem("billing.token", token);
    $("token").value = "";
    loadAll();
  });
  $("sign-out").addEventListener("click", signOut);
  $("refresh").addEventListener("click", loadAll);
  $("language").addEventListener("change", () => {
    state.language = $("language").value;
    localStorage.setItem("billing.language", state.language);
    applyLanguage();
  });
  $("sort-issued").addEventListener("click", () => {
    state.sortDescending = !state.sortDescending;
    renderHistory();
  });
  $("download-csv").addEventListener("click", downloadCsv);
  $("close-detail").addEventListener("click", () => {
    $("period-detail").hidden = true;
    state.detail = null;
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.token) schedulePoll(0);
  });

  // For the browser tests and the curious: the chart and the data behind the page.
  window.billingDashboard = { state, get chart() { return state.chart; } };

  applyLanguage();
  if (state.token) {
    loadAll();
  } else {
    showDashboard(false);
  }
})();
