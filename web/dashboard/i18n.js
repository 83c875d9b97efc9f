// The page's words in English and German, and the formats of both locales. Money is formatted
// from the decimal text the API sent (Intl.NumberFormat formats a decimal string exactly), never
// from a binary float.
"use strict";

const TEXTS = {
  en: {
    title: "Usage and billing", language: "Language", refresh: "Refresh", signOut: "Sign out",
    signInTitle: "Sign in with your API token", tokenLabel: "API token",
    tokenHelp: "The token stays in this browser tab only.", signIn: "Open the dashboard",
    currentTitle: "Current period", calls: "Calls", completedCalls: "Completed", minutes: "Minutes",
    appointments: "Appointments", avgDuration: "Average call", costSoFar: "Cost so far",
    daysRemaining: "Days remaining", periodRange: "{start} to {end}",
    minutesUnit: "{value} min", progressLabel: "{used} of {included} included minutes used ({percent} %)",
    overage: "You are {minutes} minutes over your included minutes. The overage so far costs {cost}.",
    trendsTitle: "Usage trends", chartLabel: "Minutes and calls per billing period, last six periods",
    chartMinutes: "Minutes", chartCalls: "Calls",
    upcomingTitle: "Upcoming charges", renewalDate: "Renewal date", nextBaseFee: "Next base fee",
    projectedMinutes: "Projected minutes charge", projectedAppointments: "Projected appointments charge",
    projectedTotal: "Projected total",
    paymentTitle: "Payment methods", portal: "Manage payment methods", expires: "expires {expiry}",
    expired: "Expired", default: "Default", noMethods: "No payment method on file.",
    historyTitle: "Billing history", invoiceNumber: "Invoice", period: "Period", issued: "Issued",
    total: "Total", status: "Status", pdf: "PDF", details: "Details", showDetails: "Details",
    download: "Download", noInvoices: "No invoices yet.",
    paid: "Paid", pending: "Pending", failed: "Failed", void: "Void",
    sortAscending: "Issued, oldest first", sortDescending: "Issued, newest first",
    detailTitle: "Period details", line: "Line", quantity: "Quantity", unitPrice: "Unit price", amount: "Amount",
    downloadCsv: "Download CSV", close: "Close", periodStatus: "{start} to {end}, {status}",
    open: "open", closed: "closed",
    unauthorized: "The token was not accepted. Enter a valid API token.",
    rateLimited: "Too many requests. The dashboard tries again in {seconds} seconds.",
    unavailable: "The billing service is unavailable at the moment. It tries again shortly.",
    forbidden: "This token may not show billing data.", failedRequest: "Something went wrong ({status}).",
    noPlan: "No pricing plan is valid for this company today.",
    plansTitle: "Plan comparison", plan: "Plan", model: "Model", planTotal: "Total", saving: "Saving",
    plansIntro: "Your last {periods} billing periods (the current one projected to its end), priced under each plan on offer.",
    forecastTitle: "Month-end forecast", forecastMinutes: "Minutes", forecastMinutesRange: "Likely range (80 %)",
    forecastAppointments: "Appointments", forecastCost: "Total cost", forecastCostRange: "Likely range (80 %)",
    runOut: "Included minutes run out", notExpected: "not this period", range: "{low} – {high}",
    methodWeekday: "From your usage by weekday over the last {days} days. The straight-line projection says {linear}.",
    methodLinear: "Too little history for weekday patterns: the straight-line projection.",
    anomaliesTitle: "Unusual days", anomaliesHelp: "Days of the last four weeks far from your usual level for that weekday.",
    noAnomalies: "No unusual days.", spike: "Spike", drop: "Drop", zero: "No calls",
    anomalyLine: "{minutes} min, usually {baseline} min",
    analyticsTitle: "When your calls come", conversionRate: "Appointments per answered call",
    costPerLead: "Cost per appointment", averageCall: "Average answered call", medianCall: "Median answered call",
    lengthRange: "{low} – {high}", peakHour: "Busiest hour: {weekday}, {hour}, {calls} calls.", noPeak: "No calls yet.",
    heatmapCaption: "Calls by weekday and hour of the day", hourHeader: "Hour",
    analyticsHelp: "Calls of this period so far by weekday and hour (your local time); darker cells had more calls.",
    weekdays: "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday", weekdaysShort: "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
    hourRange: "{hour}:00",
    currentPlan: "Your plan", per_minute: "Per minute", per_appointment: "Per appointment", package: "Package",
    combined: "Combined",
    budgetTitle: "Budget and alerts", noBudget: "No monthly budget is set.", monthlyBudget: "Monthly budget",
    budgetProjected: "Projected period total", budgetRunOut: "Budget runs out", budgetNotReached: "not this period",
    budgetLabel: "{used} of {budget} used ({percent} %)", spendCap: "Spending cap: {cap}",
    recentAlerts: "Recent alerts", noAlerts: "No alerts in this period.", firing: "Active", resolved: "Resolved", reached: "Reached",
    included_minutes: "{threshold} % of the included minutes", included_appointments: "{threshold} % of the included appointments",
    budget: "{threshold} % of the monthly budget", projected_budget: "The projected total exceeds the budget",
    alertBanner: "Alert: {alert}.", alertLine: "{period}, at {value} %",
  },
  de: {
    title: "Nutzung und Abrechnung", language: "Sprache", refresh: "Aktualisieren", signOut: "Abmelden",
    signInTitle: "Mit Ihrem API-Token anmelden", tokenLabel: "API-Token",
    tokenHelp: "Das Token bleibt nur in diesem Browser-Tab.", signIn: "Dashboard öffnen",
    currentTitle: "Aktuelle Periode", calls: "Anrufe", completedCalls: "Abgeschlossen", minutes: "Minuten",
    appointments: "Termine", avgDuration: "Durchschnittlicher Anruf", costSoFar: "Kosten bisher",
    daysRemaining: "Verbleibende Tage", periodRange: "{start} bis {end}",
    minutesUnit: "{value} Min.", progressLabel: "{used} von {included} inklusiven Minuten genutzt ({percent} %)",
    overage: "Sie liegen {minutes} Minuten über Ihren inklusiven Minuten. Die Mehrnutzung kostet bisher {cost}.",
    trendsTitle: "Nutzungsverlauf", chartLabel: "Minuten und Anrufe je Abrechnungsperiode, letzte sechs Perioden",
    chartMinutes: "Minuten", chartCalls: "Anrufe",
    upcomingTitle: "Anstehende Kosten", renewalDate: "Verlängerung am", nextBaseFee: "Nächste Grundgebühr",
    projectedMinutes: "Prognose Minutenkosten", projectedAppointments: "Prognose Terminkosten",
    projectedTotal: "Prognose gesamt",
    paymentTitle: "Zahlungsmethoden", portal: "Zahlungsmethoden verwalten", expires: "gültig bis {expiry}",
    expired: "Abgelaufen", default: "Standard", noMethods: "Keine Zahlungsmethode hinterlegt.",
    historyTitle: "Rechnungshistorie", invoiceNumber: "Rechnung", period: "Periode", issued: "Ausgestellt",
    total: "Summe", status: "Status", pdf: "PDF", details: "Details", showDetails: "Details",
    download: "Herunterladen", noInvoices: "Noch keine Rechnungen.",
    paid: "Bezahlt", pending: "Offen", failed: "Fehlgeschlagen", void: "Storniert",
    sortAscending: "Ausgestellt, älteste zuerst", sortDescending: "Ausgestellt, neueste zuerst",
    detailTitle: "Periodendetails", line: "Position", quantity: "Menge", unitPrice: "Einzelpreis", amount: "Betrag",
    downloadCsv: "CSV herunterladen", close: "Schließen", periodStatus: "{start} bis {end}, {status}",
    open: "offen", closed: "abgeschlossen",
    unauthorized: "Das Token wurde nicht akzeptiert. Bitte geben Sie ein gültiges API-Token ein.",
    rateLimited: "Zu viele Anfragen. Das Dashboard versucht es in {seconds} Sekunden erneut.",
    unavailable: "Der Abrechnungsdienst ist gerade nicht erreichbar. Er wird gleich erneut versucht.",
    forbidden: "Dieses Token darf keine Abrechnungsdaten anzeigen.", failedRequest: "Etwas ist schiefgegangen ({status}).",
    noPlan: "Für dieses Unternehmen gilt heute kein Tarif.",
    plansTitle: "Tarifvergleich", plan: "Tarif", model: "Modell", planTotal: "Summe", saving: "Ersparnis",
    plansIntro: "Ihre letzten {periods} Abrechnungsperioden (die aktuelle bis zu ihrem Ende hochgerechnet), zu jedem angebotenen Tarif berechnet.",
    forecastTitle: "Prognose zum Periodenende", forecastMinutes: "Minuten", forecastMinutesRange: "Wahrscheinlicher Bereich (80 %)",
    forecastAppointments: "Termine", forecastCost: "Gesamtkosten", forecastCostRange: "Wahrscheinlicher Bereich (80 %)",
    runOut: "Inklusivminuten aufgebraucht am", notExpected: "nicht in dieser Periode", range: "{low} – {high}",
    methodWeekday: "Aus Ihrer Nutzung je Wochentag der letzten {days} Tage. Die lineare Hochrechnung ergibt {linear}.",
    methodLinear: "Zu wenig Verlauf für Wochentagsmuster: die lineare Hochrechnung.",
    anomaliesTitle: "Auffällige Tage", anomaliesHelp: "Tage der letzten vier Wochen, die weit von Ihrem üblichen Niveau für diesen Wochentag abweichen.",
    noAnomalies: "Keine auffälligen Tage.", spike: "Spitze", drop: "Einbruch", zero: "Keine Anrufe",
    anomalyLine: "{minutes} Min., üblich {baseline} Min.",
    analyticsTitle: "Wann Ihre Anrufe kommen", conversionRate: "Termine je angenommenem Anruf",
    costPerLead: "Kosten je Termin", averageCall: "Durchschnittlicher angenommener Anruf", medianCall: "Median der angenommenen Anrufe",
    lengthRange: "{low} – {high}", peakHour: "Stärkste Stunde: {weekday}, {hour}, {calls} Anrufe.", noPeak: "Noch keine Anrufe.",
    heatmapCaption: "Anrufe nach Wochentag und Tagesstunde", hourHeader: "Stunde",
    analyticsHelp: "Anrufe dieser Periode bisher nach Wochentag und Stunde (Ihre Ortszeit); dunklere Felder hatten mehr Anrufe.",
    weekdays: "Montag,Dienstag,Mittwoch,Donnerstag,Freitag,Samstag,Sonntag", weekdaysShort: "Mo,Di,Mi,Do,Fr,Sa,So",
    hourRange: "{hour}:00 Uhr",
    currentPlan: "Ihr Tarif", per_minute: "Pro Minute", per_appointment: "Pro Termin", package: "Paket",
    combined: "Kombiniert",
    budgetTitle: "Budget und Hinweise", noBudget: "Kein Monatsbudget festgelegt.", monthlyBudget: "Monatsbudget",
    budgetProjected: "Hochgerechnete Periodensumme", budgetRunOut: "Budget aufgebraucht am", budgetNotReached: "nicht in dieser Periode",
    budgetLabel: "{used} von {budget} verbraucht ({percent} %)", spendCap: "Ausgabenlimit: {cap}",
    recentAlerts: "Letzte Hinweise", noAlerts: "Keine Hinweise in dieser Periode.", firing: "Aktiv", resolved: "Behoben", reached: "Erreicht",
    included_minutes: "{threshold} % der Inklusivminuten", included_appointments: "{threshold} % der Inklusivtermine",
    budget: "{threshold} % des Monatsbudgets", projected_budget: "Die Hochrechnung übersteigt das Budget",
    alertBanner: "Hinweis: {alert}.", alertLine: "{period}, bei {value} %",
  },
};

const LOCALES = { en: "en-US", de: "de-DE" };

// The language: a choice made on this page, else the browser's (its Accept-Language).
function chooseLanguage() {
  const chosen = localStorage.getItem("billing.language");
  if (chosen && TEXTS[chosen]) return chosen;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const primary = tag.toLowerCase().split("-")[0];
    if (TEXTS[primary]) return primary;
  }
  return "en";
}

function makeFormat(language) {
  const locale = LOCALES[language];
  const texts = TEXTS[language];
  const decimalsOf = (text) => (String(text).split(".")[1] || "").length;
  return {
    language,
    locale,
    text(key, values = {}) {
      return (texts[key] || key).replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : ""));
    },
    // An amount as the API wrote it (its decimals are the currency's minor unit).
    money(text, currency) {
      if (text === null || text === undefined) return "–";
      const decimals = decimalsOf(text);
      return new Intl.NumberFormat(locale, {
        style: "currency", currency, minimumFractionDigits: decimals, maximumFractionDigits: decimals,
      }).format(String(text));
    },
    // A quantity (minutes, counts, percentages): its own decimals, at most two.
    number(text) {
      if (text === null || text === undefined) return "–";
      const decimals = Math.min(decimalsOf(text), 2);
      return new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
        .format(String(text));
    },
    // A calendar date "YYYY-MM-DD" (or the date of an ISO timestamp), as that calendar day.
    date(text) {
      if (!text) return "–";
      const [year, month, day] = String(text).slice(0, 10).split("-").map(Number);
      return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" })
        .format(new Date(Date.UTC(year, month - 1, day)));
    },
    month(text) {
      const [year, month] = String(text).split("-").map(Number);
      return new Intl.DateTimeFormat(locale, { month: "short", year: "numeric", timeZone: "UTC" })
        .format(new Date(Date.UTC(year, month - 1, 1)));
    },
  };
}
