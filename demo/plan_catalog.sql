-- The plans on offer (billing.plan_catalog), for the dashboard's plan comparison. Apart from
-- demo_data.sql, which the upgrade test also loads into versions without the catalog.
INSERT INTO billing.plan_catalog (name, config, currency) VALUES
    ('Starter', '{"pricing_model":"per_minute","base_fee":29,"included_minutes":200,"overage_per_minute":0.20,"per_appointment_rate":2}', 'EUR'),
    ('Professional', '{"pricing_model":"per_minute","base_fee":99,"included_minutes":1500,"overage_per_minute":0.10,"per_appointment_rate":1.5}', 'EUR'),
    ('Pay as you go', '{"pricing_model":"combined","per_minute_rate":0.12,"per_appointment_rate":2.5}', 'EUR'),
    ('Appointments only', '{"pricing_model":"per_appointment","per_appointment_rate":4.5}', 'EUR'),
    ('US Flex', '{"pricing_model":"combined","per_minute_rate":0.09,"per_appointment_rate":2}', 'USD'),
    ('US Starter', '{"pricing_model":"per_minute","base_fee":39,"included_minutes":300,"overage_per_minute":0.18,"per_appointment_rate":2}', 'USD');
