// Reads a company's billing figures as the application (or as a viewer) with JDBC, money as
// BigDecimal (amounts in the usage document read with ->> as text). Usage:
//   java -cp /usr/share/java/postgresql.jar UsageCard.java COMPANY|viewer
// (connection from the PG* environment variables). The README's Java example; test/clients.sh
// runs it through pgbouncer and compares it with the other languages.
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Properties;

public class UsageCard {
  public static void main(String[] args) throws Exception {
    String company = args[0];
    Properties properties = new Properties();
    properties.setProperty("user", System.getenv("PGUSER"));
    // Through pgbouncer in transaction mode (before 1.21): never switch to server-side prepared statements.
    properties.setProperty("prepareThreshold", "0");
    // JDBC connects over TCP (PGHOST a host name or address, not a socket directory).
    String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT") + "/" + System.getenv("PGDATABASE");
    try (Connection connection = DriverManager.getConnection(url, properties)) {
      connection.setAutoCommit(false);
      if (!company.equals("viewer")) {
        try (PreparedStatement set = connection.prepareStatement("SELECT set_config('billing.company_id', ?, true)")) {
          set.setString(1, company);
          set.execute();
        }
      }
      try (Statement statement = connection.createStatement()) {
        try (ResultSet usage = statement.executeQuery(
            "SELECT u->>'total_cost', u->'calls'->>'cost', u->'appointments'->>'cost', u->>'base_fee', u->>'currency' "
                + "FROM billing.usage_current() AS u")) {
          usage.next();
          System.out.printf("usage total_cost=%s calls.cost=%s appointments.cost=%s base_fee=%s currency=%s%n",
              new BigDecimal(usage.getString(1)).toPlainString(), new BigDecimal(usage.getString(2)).toPlainString(),
              new BigDecimal(usage.getString(3)).toPlainString(), new BigDecimal(usage.getString(4)).toPlainString(),
              usage.getString(5));
        }
        try (ResultSet trends = statement.executeQuery("SELECT month, calls, minutes, cost FROM billing.usage_trends()")) {
          while (trends.next()) {
            BigDecimal cost = trends.getBigDecimal(4);
            System.out.printf("trend %s calls=%d minutes=%s cost=%s%n", trends.getString(1), trends.getLong(2),
                trends.getBigDecimal(3).toPlainString(), cost == null ? "null" : cost.toPlainString());
          }
        }
        BigDecimal sum = BigDecimal.ZERO;
        try (ResultSet history = statement.executeQuery("SELECT number, total, status FROM billing.billing_history()")) {
          while (history.next()) {
            BigDecimal total = history.getBigDecimal(2);
            System.out.printf("history %s total=%s status=%s%n", history.getString(1), total.toPlainString(), history.getString(3));
            sum = sum.add(total);
          }
        }
        System.out.printf("history_sum=%s%n", sum.toPlainString());
        long period;
        try (ResultSet periods = statement.executeQuery(
            "SELECT id FROM billing.billing_periods WHERE status = 'closed' ORDER BY start_date DESC LIMIT 1")) {
          periods.next();
          period = periods.getLong(1);
        }
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        int records = 0;
        try (PreparedStatement lines = connection.prepareStatement("SELECT line FROM billing.period_csv_lines(?) AS line")) {
          lines.setLong(1, period);
          try (ResultSet result = lines.executeQuery()) {
            while (result.next()) {
              digest.update((result.getString(1) + "\r\n").getBytes(StandardCharsets.UTF_8));
              records++;
            }
          }
        }
        System.out.printf("csv records=%d sha256=%s%n", records, HexFormat.of().formatHex(digest.digest()));
      }
      connection.commit();
    }
  }
}
