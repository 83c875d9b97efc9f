<?php
// Reads a company's billing figures as the application (or as a viewer) with PDO, money as the
// decimal strings PDO returns for numeric (amounts in the usage document read with ->> as text),
// summed exactly with BCMath. Usage: php usage_card.php COMPANY|viewer (connection from the PG*
// environment variables). The README's PHP example; test/clients.sh runs it through pgbouncer.
$company = $argv[1];
$dsn = sprintf('pgsql:host=%s;port=%s;dbname=%s', getenv('PGHOST'), getenv('PGPORT'), getenv('PGDATABASE'));
$db = new PDO($dsn, getenv('PGUSER'), getenv('PGPASSWORD') ?: null, [
    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
    // Through pgbouncer in transaction mode (before 1.21): no server-side prepared statements.
    PDO::ATTR_EMULATE_PREPARES => true,
]);

function decimals(string $amount): int {
    $dot = strpos($amount, '.');
    return $dot === false ? 0 : strlen($amount) - $dot - 1;
}

$db->beginTransaction();
if ($company !== 'viewer') {
    $db->prepare("SELECT set_config('billing.company_id', ?, true)")->execute([$company]);
}
$usage = $db->query("SELECT u->>'total_cost' AS total_cost, u->'calls'->>'cost' AS calls_cost,
                            u->'appointments'->>'cost' AS appointments_cost, u->>'base_fee' AS base_fee,
                            u->>'currency' AS currency FROM billing.usage_current() AS u")->fetch(PDO::FETCH_ASSOC);
printf("usage total_cost=%s calls.cost=%s appointments.cost=%s base_fee=%s currency=%s\n", $usage['total_cost'],
       $usage['calls_cost'], $usage['appointments_cost'], $usage['base_fee'], $usage['currency']);
foreach ($db->query('SELECT month, calls, minutes, cost FROM billing.usage_trends()') as $row) {
    printf("trend %s calls=%s minutes=%s cost=%s\n", $row['month'], $row['calls'], $row['minutes'], $row['cost'] ?? 'null');
}
$sum = '0';
foreach ($db->query('SELECT number, total, status FROM billing.billing_history()') as $row) {
    printf("history %s total=%s status=%s\n", $row['number'], $row['total'], $row['status']);
    $sum = bcadd($sum, $row['total'], max(decimals($sum), decimals($row['total'])));
}
printf("history_sum=%s\n", $sum);
$period = $db->query("SELECT id FROM billing.billing_periods WHERE status = 'closed' ORDER BY start_date DESC LIMIT 1")
             ->fetchColumn();
$lines = $db->prepare('SELECT line FROM billing.period_csv_lines(?) AS line');
$lines->execute([$period]);
$hash = hash_init('sha256');
$records = 0;
while (($line = $lines->fetchColumn()) !== false) {
    hash_update($hash, $line . "\r\n");
    $records++;
}
printf("csv records=%d sha256=%s\n", $records, hash_final($hash));
$db->commit();
