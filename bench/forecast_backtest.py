"""Backtest of billing.usage_forecast() against the linear projection (usage_projection): for
every complete period of every company from its third on, the month-end total cost forecast
from the end of day 7, 14 and 21, compared with what the period really cost. Prints, per data
set and day, the mean absolute percentage error (MAPE) of both methods and how often the 80%
interval held the actual total. Run by bench/forecast_backtest.sh."""
import decimal
import json
import sys

import psycopg2

connection = psycopg2.connect("")
connection.autocommit = True
cursor = connection.cursor()


def backtest(label, companies):
    rows = []
    for company in companies:
        cursor.execute("""SELECT p.id, p.start_date, p.end_date, c.timezone FROM billing.billing_periods p
                            JOIN billing.companies c ON c.id = p.company_id
                           WHERE p.company_id = %s AND p.end_date < (now() AT TIME ZONE c.timezone)::date
                           ORDER BY p.start_date OFFSET 2""", (company,))
        for period, start, end, zone in cursor.fetchall():
            cursor.execute("SELECT total_cost FROM billing.period_usage WHERE period_id = %s", (period,))
            actual = cursor.fetchone()[0]
            if actual is None or actual == 0:
                continue
            for day in (7, 14, 21):
                # The end of the day-th local day of the period.
                cursor.execute("SELECT billing.usage_forecast(%s, ((%s::date + %s)::timestamp AT TIME ZONE %s) - interval '1 millisecond')::text",
                               (company, start, day, zone))
                forecast = json.loads(cursor.fetchone()[0], parse_float=decimal.Decimal)
                cost = forecast["total_cost"]
                rows.append((day, forecast["method"], actual, cost["forecast"], cost["linear"], cost["low"], cost["high"]))
    print(f"\n{label}: {len({r for r in companies})} companies, {len(rows) // 3} periods")
    print("| from day | forecasts | MAPE weekday forecast | MAPE linear projection | 80% interval held the actual |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    summary = []
    for day in (7, 14, 21):
        chosen = [r for r in rows if r[0] == day]
        ape = lambda value, actual: abs(value - actual) / actual * 100
        weekday = sum(ape(r[3], r[2]) for r in chosen) / len(chosen)
        linear = sum(ape(r[4], r[2]) for r in chosen) / len(chosen)
        with_interval = [r for r in chosen if r[5] is not None and r[6] is not None]
        held = sum(1 for r in with_interval if r[5] <= r[2] <= r[6])
        coverage = held / len(with_interval) * 100 if with_interval else float("nan")
        print(f"| {day} | {len(chosen)} | {weekday:.2f}% | {linear:.2f}% | {coverage:.1f}% ({held} of {len(with_interval)}) |")
        summary.append((day, weekday, linear, coverage))
    return summary


demo = backtest("demo companies (demo/demo_data.sql)", [1, 2, 3, 4])
cursor.execute("SELECT id FROM billing.companies WHERE id >= 1000 ORDER BY id")
synthetic = backtest("synthetic: weekly rhythm, trend and noise", [r[0] for r in cursor.fetchall()])
failed = [f"{label} day {day}" for label, summary in (("demo", demo), ("synthetic", synthetic))
          for day, weekday, linear, coverage in summary
          if not (weekday < linear) or (label == "synthetic" and not 70 <= coverage <= 90)]
print("\ntargets (MAPE below linear; synthetic coverage 70 to 90%):", "met" if not failed else "missed: " + ", ".join(failed))
sys.exit(1 if failed and "--check" in sys.argv else 0)
