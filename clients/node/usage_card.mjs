// Reads a company's billing figures as the application (or as a viewer) with pg, money as the
// decimal text PostgreSQL sent (pg returns numeric as strings; amounts in the usage document are
// read with ->> as text), summed exactly as BigInt minor units. Usage: node usage_card.mjs
// COMPANY|viewer (connection from the PG* environment variables). The README's Node example;
// test/clients.sh runs it through pgbouncer and compares it with the other languages.
import { createHash } from "node:crypto";
import pg from "pg";

const company = process.argv[2];
// pg sends parameterized queries as unnamed statements: nothing is prepared across transactions,
// so pgbouncer's transaction mode needs no setting here.
const client = new pg.Client();
await client.connect();

// Exact sum of decimal strings with the same number of decimals (an invoice currency's minor unit).
function addDecimal(a, b) {
  const decimals = Math.max((a.split(".")[1] || "").length, (b.split(".")[1] || "").length);
  const scaled = (text) => {
    const [whole, fraction = ""] = text.replace("-", "").split(".");
    const value = BigInt(whole + fraction.padEnd(decimals, "0"));
    return text.startsWith("-") ? -value : value;
  };
  const sum = scaled(a) + scaled(b);
  const digits = (sum < 0n ? -sum : sum).toString().padStart(decimals + 1, "0");
  const text = decimals ? `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` : digits;
  return sum < 0n ? `-${text}` : text;
}

try {
  await client.query("BEGIN");
  if (company !== "viewer") await client.query("SELECT set_config('billing.company_id', $1, true)", [company]);
  const usage = (await client.query(
    `SELECT u->>'total_cost' AS total_cost, u->'calls'->>'cost' AS calls_cost, u->'appointments'->>'cost' AS appointments_cost,
            u->>'base_fee' AS base_fee, u->>'currency' AS currency FROM billing.usage_current() AS u`)).rows[0];
  console.log(`usage total_cost=${usage.total_cost} calls.cost=${usage.calls_cost} appointments.cost=${usage.appointments_cost} ` +
              `base_fee=${usage.base_fee} currency=${usage.currency}`);
  for (const row of (await client.query("SELECT month, calls, minutes, cost FROM billing.usage_trends()")).rows)
    console.log(`trend ${row.month} calls=${row.calls} minutes=${row.minutes} cost=${row.cost ?? "null"}`);
  let sum = "0";
  for (const row of (await client.query("SELECT number, total, status FROM billing.billing_history()")).rows) {
    console.log(`history ${row.number} total=${row.total} status=${row.status}`);
    sum = addDecimal(sum, row.total);
  }
  console.log(`history_sum=${sum}`);
  const period = (await client.query(
    "SELECT id FROM billing.billing_periods WHERE status = 'closed' ORDER BY start_date DESC LIMIT 1")).rows[0].id;
  const digest = createHash("sha256");
  const lines = (await client.query("SELECT line FROM billing.period_csv_lines($1) AS line", [period])).rows;
  for (const { line } of lines) digest.update(`${line}\r\n`, "utf8");
  console.log(`csv records=${lines.length} sha256=${digest.digest("hex")}`);
  await client.query("COMMIT");
} finally {
  await client.end();
}
