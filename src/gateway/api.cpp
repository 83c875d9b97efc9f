#include "gateway/api.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "core/api_token.h"
#include "core/period.h"
#include <unistd.h>

namespace gateway {
namespace {

using Clock = std::chrono::steady_clock;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// What the access log line of the request on this thread says beyond the request itself.
struct RequestLog {
  Clock::time_point start;
  long long token_id = 0;
  std::string problem;  // a database or internal error the client was not shown
};
thread_local RequestLog request_log;

void write_access_log(const httplib::Request& request, const httplib::Response& response) {
  const double duration_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - request_log.start).count();
  nlohmann::ordered_json line = {{"method", request.method},
                         {"path", request.path},  // never the query or the headers: no secret reaches the log
                         {"status", response.status},
                         {"duration_ms", static_cast<double>(static_cast<long long>(duration_ms * 1000)) / 1000}};
  line["token_id"] = request_log.token_id != 0 ? nlohmann::ordered_json(request_log.token_id) : nlohmann::ordered_json(nullptr);
  if (!request_log.problem.empty()) line["problem"] = request_log.problem;
  const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  // One write() per line and no lock: a thread preempted while holding a log mutex would stall
  // every other request behind it.
  (void)!::write(STDOUT_FILENO, text.data(), text.size());
  // A request httplib refuses before routing (a bad request line) never reaches the pre-routing
  // handler: it must not inherit this request's token id or problem.
  request_log = RequestLog{Clock::now(), 0, {}};
}

void send_json(httplib::Response& response, int status, const std::string& body) {
  response.status = status;
  response.set_header("Cache-Control", "private, no-cache");
  response.set_content(body, "application/json; charset=utf-8");
}

void send_error(httplib::Response& response, int status, const std::string& code, const std::string& message) {
  const nlohmann::ordered_json body = {{"success", false}, {"error", {{"code", code}, {"message", message}}}};
  send_json(response, status, body.dump());
}

void send_unauthenticated(httplib::Response& response) {
  response.set_header("WWW-Authenticate", "Bearer");
  send_error(response, 401, "unauthenticated", "A valid API token is required (Authorization: Bearer <token>).");
}

void send_unavailable(httplib::Response& response, const std::string& problem) {
  request_log.problem = problem;
  response.set_header("Retry-After", "5");
  send_error(response, 503, "service_unavailable", "The billing database is unavailable; try again shortly.");
}

// Which answer a database error gets depends on what the request asked for.
enum class Subject { kCompany, kPeriod };

void send_database_error(httplib::Response& response, const PGresult* error, Subject subject) {
  const char* state = PQresultErrorField(error, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state != nullptr ? state : "";
  const char* message = PQresultErrorField(error, PG_DIAG_MESSAGE_PRIMARY);
  request_log.problem = sqlstate + " " + (message != nullptr ? message : "");
  if (sqlstate == "28000") return send_unauthenticated(response);
  // Another company's period and a period that does not exist: the same answer, byte for byte.
  if (subject == Subject::kPeriod && (sqlstate == "42501" || sqlstate == "P0002"))
    return send_error(response, 404, "not_found", "Billing period not found.");
  if (sqlstate == "P0002")
    return send_error(response, 409, "no_pricing_plan", "No pricing plan is valid for this company on this date.");
  if (sqlstate == "42501") return send_error(response, 403, "forbidden", "This token may not read this company.");
  if (sqlstate.rfind("22", 0) == 0) return send_error(response, 400, "invalid_parameter", "A parameter is not valid.");
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 || sqlstate == "53300" || sqlstate == "55000" ||
      sqlstate == "40001" || sqlstate == "40P01")
    return send_unavailable(response, request_log.problem);
  // A shard router (PL/Proxy) that cannot reach the company's shard raises XX000 with a message
  // of its own: the database is unavailable, not broken.
  const std::string text = message != nullptr ? message : "";
  if (sqlstate == "XX000" && text.rfind("PL/Proxy function", 0) == 0 &&
      (text.find("PQconnect") != std::string::npos || text.find("connection") != std::string::npos))
    return send_unavailable(response, request_log.problem);
  send_error(response, 500, "internal_error", "Internal server error.");
}

// The results of a simple-query script (several statements, no parameters): every statement's
// result up to the first error.
struct ScriptResults {
  std::vector<Result> results;
  Result error{nullptr, PQclear};
  bool connection_lost = false;
};

ScriptResults run_script(PGconn* connection, const std::string& sql) {
  ScriptResults out;
  if (PQsendQuery(connection, sql.c_str()) == 0) {
    out.connection_lost = true;
    return out;
  }
  while (PGresult* result = PQgetResult(connection)) {
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) {
      if (!out.error) out.error.reset(result);
      else PQclear(result);
    } else {
      out.results.emplace_back(result, PQclear);
    }
  }
  if (PQstatus(connection) != CONNECTION_OK) out.connection_lost = true;
  return out;
}

void rollback(PGconn* connection) {
  if (PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) != PQTRANS_IDLE)
    PQclear(PQexec(connection, "ROLLBACK"));
}

std::string connection_problem(PGconn* connection) {
  std::string message = PQerrorMessage(connection);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// The token of "Authorization: Bearer <token>", if it could be one: printable ASCII, at most
// 512 characters. Anything else is refused without asking the database.
std::optional<std::string> bearer_token(const httplib::Request& request) {
  if (request.get_header_value_count("Authorization") != 1) return std::nullopt;
  const std::string header = request.get_header_value("Authorization");
  constexpr const char* kScheme = "Bearer ";
  if (header.size() <= 7 || strncasecmp(header.c_str(), kScheme, 7) != 0) return std::nullopt;
  std::string token = header.substr(7);
  if (token.size() > 512) return std::nullopt;
  for (const char c : token)
    if (c < 0x21 || c > 0x7e) return std::nullopt;
  return token;
}

// An ETag from the response body itself (FNV-1a, 64 bits): equal figures, equal tag, in every
// gateway process.
std::string body_etag(const std::string& body) {
  uint64_t hash = 1469598103934665603ULL;
  for (const unsigned char c : body) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  std::size_t begin = 0;
  while (begin < if_none_match.size()) {
    std::size_t end = if_none_match.find(',', begin);
    if (end == std::string::npos) end = if_none_match.size();
    std::string candidate = if_none_match.substr(begin, end - begin);
    const std::size_t first = candidate.find_first_not_of(" \t");
    const std::size_t last = candidate.find_last_not_of(" \t");
    candidate = first == std::string::npos ? "" : candidate.substr(first, last - first + 1);
    if (candidate.rfind("W/", 0) == 0) candidate = candidate.substr(2);
    if (candidate == "*" || candidate == etag) return true;
    begin = end + 1;
  }
  return false;
}

class Api {
 public:
  Api(const Config& config, Pool& pool) : config_(config), pool_(pool) {}

  // A request that reads billing data: authenticated, rate limited and inside a READ ONLY
  // transaction with the token's company, on `lease`. False when the response is already
  // written (401, 403, 429, 503, ...).
  bool begin(const httplib::Request& request, httplib::Response& response, std::unique_ptr<Lease>& lease) {
    const std::optional<std::string> token = bearer_token(request);
    if (!token) {
      send_unauthenticated(response);
      return false;
    }
    std::string problem;
    switch (pool_.acquire(lease, problem)) {
      case Pool::Outcome::kLeased: break;
      case Pool::Outcome::kBusy: send_unavailable(response, "no free database connection"); return false;
      case Pool::Outcome::kUnreachable: send_unavailable(response, problem); return false;
    }
    PGconn* connection = lease->connection();
    char* literal = PQescapeLiteral(connection, token->c_str(), token->size());
    if (literal == nullptr) {
      send_unavailable(response, connection_problem(connection));
      return false;
    }
    const std::string sql =
        "BEGIN READ ONLY; SET LOCAL search_path = pg_catalog, pg_temp; SET LOCAL TimeZone = 'UTC'; "
        "SELECT a.token_id, a.company_active, 'view_billing' OPERATOR(pg_catalog.=) ANY (a.abilities), "
        "r.admitted, r.remaining, r.retry_after_seconds, "
        "pg_catalog.set_config('billing.company_id', a.company_id::pg_catalog.text, true) "
        "FROM billing.authenticate_token(" + std::string(literal) + ") AS a "
        "CROSS JOIN LATERAL billing.throttle_detail('api_token:' OPERATOR(pg_catalog.||) a.token_id::pg_catalog.text, " +
        std::to_string(config_.rate_limit) + ") AS r";
    PQfreemem(literal);
    ScriptResults script = run_script(connection, sql);
    if (script.connection_lost) {
      // A pooled connection that the server closed (a restart, an idle timeout) is found out
      // here, before anything ran: one new connection, one more try.
      PQreset(connection);
      if (PQstatus(connection) == CONNECTION_OK) script = run_script(connection, sql);
    }
    if (script.connection_lost) {
      send_unavailable(response, connection_problem(connection));
      return false;
    }
    if (script.error) {
      // 42501 here means the gateway's own role may not verify tokens (it is no billing_app
      // member): the gateway's configuration, not the client's token.
      const char* state = PQresultErrorField(script.error.get(), PG_DIAG_SQLSTATE);
      if (state != nullptr && std::string(state) == "42501") {
        const char* message = PQresultErrorField(script.error.get(), PG_DIAG_MESSAGE_PRIMARY);
        request_log.problem = std::string("42501 ") + (message != nullptr ? message : "") +
                              " (the gateway's database role must be a member of billing_app)";
        send_error(response, 500, "internal_error", "Internal server error.");
      } else {
        send_database_error(response, script.error.get(), Subject::kCompany);
      }
      rollback(connection);
      return false;
    }
    const PGresult* row = script.results.back().get();
    if (PQntuples(row) != 1) {
      send_error(response, 500, "internal_error", "Internal server error.");
      rollback(connection);
      return false;
    }
    const auto field = [&](int column) { return std::string(PQgetvalue(row, 0, column)); };
    request_log.token_id = std::stoll(field(0));
    response.set_header("X-RateLimit-Limit", std::to_string(config_.rate_limit));
    response.set_header("X-RateLimit-Remaining", field(4));
    bool allowed = false;
    if (field(3) != "t") {
      response.set_header("Retry-After", field(5));
      send_error(response, 429, "rate_limited",
                 "Too many requests: " + std::to_string(config_.rate_limit) + " a minute per token. Retry after " +
                     field(5) + " seconds.");
    } else if (field(1) != "t") {
      send_error(response, 403, "company_inactive", "The company of this token is not active.");
    } else if (field(2) != "t") {
      send_error(response, 403, "forbidden", "This token does not have the view_billing ability.");
    } else {
      allowed = true;
    }
    if (!allowed) rollback(connection);
    return allowed;
  }

  // Runs `query` (one row, one JSON column) in the request's transaction and answers with the
  // envelope, an ETag and 304 when the client has the same figures.
  void serve_json(const httplib::Request& request, httplib::Response& response, const std::string& query,
                  Subject subject) {
    std::unique_ptr<Lease> lease;
    if (!begin(request, response, lease)) return;
    PGconn* connection = lease->connection();
    ScriptResults script = run_script(connection, query + "; COMMIT");
    if (script.connection_lost) return send_unavailable(response, connection_problem(connection));
    if (script.error) {
      send_database_error(response, script.error.get(), subject);
      return rollback(connection);
    }
    const PGresult* data = script.results.front().get();
    const std::string value =
        PQntuples(data) == 1 && !PQgetisnull(data, 0, 0) ? std::string(PQgetvalue(data, 0, 0)) : "null";
    // The documents pass through as the database wrote them: 174.00 stays 174.00.
    const std::string body = "{\"success\": true, \"data\": " + value + "}";
    const std::string etag = body_etag(body);
    response.set_header("ETag", etag);
    if (request.has_header("If-None-Match") && etag_matches(request.get_header_value("If-None-Match"), etag)) {
      response.status = 304;
      response.set_header("Cache-Control", "private, no-cache");
      return;
    }
    send_json(response, 200, body);
  }

  void serve_csv(const httplib::Request& request, httplib::Response& response, long long period) {
    std::unique_ptr<Lease> lease;
    if (!begin(request, response, lease)) return;
    PGconn* connection = lease->connection();
    const std::string fetch = "FETCH 1000 FROM billing_period_csv";
    ScriptResults script = run_script(
        connection, "DECLARE billing_period_csv NO SCROLL CURSOR FOR SELECT line FROM billing.period_csv_lines(" +
                        std::to_string(period) + ") AS line; " + fetch);
    if (script.connection_lost) return send_unavailable(response, connection_problem(connection));
    if (script.error) {
      send_database_error(response, script.error.get(), Subject::kPeriod);
      return rollback(connection);
    }
    // The first batch is fetched before the headers go out, so a missing period is a 404; the
    // rest streams in batches of 1,000 records: the gateway holds one batch at a time.
    struct Stream {
      std::unique_ptr<Lease> lease;
      Result batch{nullptr, PQclear};
      bool finished = false;
    };
    auto stream = std::make_shared<Stream>();
    stream->lease = std::move(lease);
    stream->batch = std::move(script.results.back());
    response.status = 200;
    response.set_header("Content-Disposition",
                        "attachment; filename=\"billing-period-" + std::to_string(period) + ".csv\"");
    response.set_header("Cache-Control", "private, no-store");
    response.set_chunked_content_provider(
        "text/csv; charset=utf-8",
        [stream, fetch](size_t, httplib::DataSink& sink) {
          PGconn* connection = stream->lease->connection();
          const PGresult* batch = stream->batch.get();
          const int rows = PQntuples(batch);
          if (rows == 0) {
            Result commit(PQexec(connection, "CLOSE billing_period_csv; COMMIT"), PQclear);
            stream->finished = PQresultStatus(commit.get()) == PGRES_COMMAND_OK;
            sink.done();
            return stream->finished;
          }
          std::string chunk;
          for (int i = 0; i < rows; ++i) {
            chunk.append(PQgetvalue(batch, i, 0), static_cast<size_t>(PQgetlength(batch, i, 0)));
            chunk.append("\r\n");
          }
          if (!sink.write(chunk.data(), chunk.size())) return false;
          stream->batch.reset(PQexec(connection, fetch.c_str()));
          return PQresultStatus(stream->batch.get()) == PGRES_TUPLES_OK;
        },
        [stream](bool) {
          if (!stream->finished && stream->lease) rollback(stream->lease->connection());
          stream->lease.reset();
        });
  }

  void ready(httplib::Response& response) {
    std::unique_ptr<Lease> lease;
    std::string problem;
    if (pool_.acquire(lease, problem) != Pool::Outcome::kLeased)
      return send_unavailable(response, problem.empty() ? "no free database connection" : problem);
    Result result(PQexec(lease->connection(), "SELECT 1"), PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK)
      return send_unavailable(response, connection_problem(lease->connection()));
    send_json(response, 200, "{\"status\": \"ready\"}");
  }

 private:
  const Config& config_;
  Pool& pool_;
};

// A counted query parameter (months=, periods=, days=): given once, 1 to `most`, `absent` when
// not given; nothing when it is anything else.
std::optional<int> count_parameter(const httplib::Request& request, const char* name, int absent, int most) {
  if (!request.has_param(name)) return absent;
  if (request.get_param_value_count(name) != 1) return std::nullopt;
  const std::optional<int64_t> count = billing::parse_positive_id(request.get_param_value(name));
  if (!count || *count > most) return std::nullopt;
  return static_cast<int>(*count);
}

// A date query parameter (from=, to=): given at most once, "YYYY-MM-DD", a real calendar date.
// The SQL literal (NULL when not given), or nothing when it is anything else.
std::optional<std::string> date_parameter(const httplib::Request& request, const char* name) {
  if (!request.has_param(name)) return std::string("NULL");
  if (request.get_param_value_count(name) != 1) return std::nullopt;
  const std::string value = request.get_param_value(name);
  if (!billing::parse_iso_date(value)) return std::nullopt;
  return "'" + value + "'::pg_catalog.date";  // digits and dashes only
}

// The rows of a set-returning API function (its arguments after the NULL company) as a JSON array.
std::string rows_as_json(const std::string& function, int argument) {
  return "SELECT COALESCE(pg_catalog.array_to_json(pg_catalog.array_agg(r)), '[]') FROM billing." + function + "(NULL, " +
         std::to_string(argument) + ") AS r";
}

std::string sql_literal_or_null(const std::string& text) {
  if (text.empty()) return "NULL";
  std::string literal = "'";
  for (const char c : text) {
    literal += c;
    if (c == '\'') literal += '\'';
  }
  return literal + "'";  // standard_conforming_strings is on in every supported PostgreSQL
}

}  // namespace

void install_routes(httplib::Server& server, const Config& config, Pool& pool) {
  auto api = std::make_shared<Api>(config, pool);
  server.set_pre_routing_handler([](const httplib::Request& request, httplib::Response&) {
    request_log = RequestLog{Clock::now(), 0, {}};
    // Range is ignored (a server may, RFC 9110): httplib 0.11 would answer a range of a JSON
    // document with 200 and a partial body. The request object is httplib's own, not const.
    const_cast<httplib::Request&>(request).ranges.clear();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger(write_access_log);

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    send_json(response, 200, "{\"status\": \"ok\"}");
  });
  server.Get("/readyz", [api](const httplib::Request&, httplib::Response& response) { api->ready(response); });

  const auto document = [api](const char* query) {
    return [api, query](const httplib::Request& request, httplib::Response& response) {
      api->serve_json(request, response, query, Subject::kCompany);
    };
  };
  server.Get("/api/billing/usage/current", document("SELECT billing.usage_current()"));
  server.Get("/api/billing/usage/projection", document("SELECT billing.usage_projection()"));
  server.Get("/api/billing/usage/forecast", document("SELECT billing.usage_forecast()"));
  // The history with each invoice's period id, so that a client can open the period's detail.
  // Through the API only (period_for), no table: the gateway works the same on a shard router.
  server.Get("/api/billing/history",
             document("SELECT COALESCE(pg_catalog.array_to_json(pg_catalog.array_agg(r ORDER BY r.issued_at DESC, "
                      "r.invoice_id DESC)), '[]') FROM (SELECT h.*, (billing.period_for(c.company, h.period_start)).period_id "
                      "AS period_id FROM billing.billing_history() AS h, (SELECT billing.current_company() AS company) AS c) AS r"));
  // The budget card and the recent alerts (the dashboard polls it; webhooks push).
  server.Get("/api/billing/alerts",
             document("SELECT pg_catalog.jsonb_build_object('budget', billing.budget_status(), 'alerts', "
                      "COALESCE((SELECT pg_catalog.jsonb_agg(a) FROM billing.company_alerts() AS a), '[]'))"));
  server.Get("/api/billing/upcoming-charges",
             document("SELECT pg_catalog.row_to_json(u) FROM billing.upcoming_charges() AS u"));
  // Endpoints with a counted parameter: the rows of usage_trends, compare_plans, usage_anomalies.
  struct CountedEndpoint {
    const char* path;
    const char* function;
    const char* parameter;
    int absent, most;
  };
  for (const CountedEndpoint endpoint : {CountedEndpoint{"/api/billing/usage/trends", "usage_trends", "months", 6, 120},
                                         CountedEndpoint{"/api/billing/plan-comparison", "compare_plans", "periods", 6, 24},
                                         CountedEndpoint{"/api/billing/usage/anomalies", "usage_anomalies", "days", 28, 366}}) {
    server.Get(endpoint.path, [api, endpoint](const httplib::Request& request, httplib::Response& response) {
      const std::optional<int> count = count_parameter(request, endpoint.parameter, endpoint.absent, endpoint.most);
      if (!count)
        return send_error(response, 400, "invalid_parameter",
                          std::string(endpoint.parameter) + " must be an integer from 1 to " + std::to_string(endpoint.most) + ".");
      api->serve_json(request, response, rows_as_json(endpoint.function, *count), Subject::kCompany);
    });
  }
  // The analytics of a date range (default: the current period so far).
  server.Get("/api/billing/usage/analytics", [api](const httplib::Request& request, httplib::Response& response) {
    const std::optional<std::string> from = date_parameter(request, "from");
    const std::optional<std::string> to = date_parameter(request, "to");
    if (!from || !to)
      return send_error(response, 400, "invalid_parameter", "from and to must be calendar dates written YYYY-MM-DD.");
    api->serve_json(request, response, "SELECT billing.usage_analytics(NULL, " + *from + ", " + *to + ")", Subject::kCompany);
  });
  const std::string portal = sql_literal_or_null(config.portal_url);
  server.Get("/api/billing/payment-methods", [api, portal](const httplib::Request& request, httplib::Response& response) {
    // Display fields only: no provider reference, never card data (the table holds none).
    api->serve_json(request, response,
                    "SELECT pg_catalog.json_build_object('methods', COALESCE(pg_catalog.array_to_json(pg_catalog.array_agg("
                    "pg_catalog.json_build_object('id', m.id, 'brand', m.brand, 'last4', m.last4, 'expiry', m.expiry, "
                    "'is_default', m.is_default, 'expired', m.expired, 'provider', m.provider))), '[]'), "
                    "'portal_url', " + portal + "::pg_catalog.text) FROM billing.company_payment_methods() AS m",
                    Subject::kCompany);
  });
  server.Get(R"(/api/billing/period/([^/]+))", [api](const httplib::Request& request, httplib::Response& response) {
    const std::optional<int64_t> period = billing::parse_positive_id(request.matches[1].str());
    if (!period) return send_error(response, 400, "invalid_parameter", "The period id must be a positive integer.");
    api->serve_json(request, response, "SELECT billing.period_detail(" + std::to_string(*period) + ")", Subject::kPeriod);
  });
  server.Get(R"(/api/billing/period/([^/]+)/download)", [api](const httplib::Request& request, httplib::Response& response) {
    const std::optional<int64_t> period = billing::parse_positive_id(request.matches[1].str());
    if (!period) return send_error(response, 400, "invalid_parameter", "The period id must be a positive integer.");
    api->serve_csv(request, response, *period);
  });

  // The dashboard page (web/dashboard/) and Chart.js from web/node_modules (npm ci), static.
  if (!config.web_root.empty()) {
    const httplib::Headers page_headers = {
        {"Content-Security-Policy",
         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
         "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"Cache-Control", "no-cache"}};
    if (!server.set_mount_point("/dashboard/vendor/", config.web_root + "/node_modules/chart.js/dist", page_headers) ||
        !server.set_mount_point("/dashboard/", config.web_root + "/dashboard", page_headers))
      throw std::runtime_error("--web-root " + config.web_root +
                               " must hold dashboard/ and node_modules/chart.js/dist/ (run npm ci there)");
    server.Get("/dashboard", [](const httplib::Request&, httplib::Response& response) {
      response.set_redirect("/dashboard/");
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& response) { response.set_redirect("/dashboard/"); });
  }

  // Known paths answer other methods with 405; everything else is a JSON 404.
  const auto not_allowed = [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Allow", "GET, HEAD");
    send_error(response, 405, "method_not_allowed", "Only GET is supported here.");
  };
  for (const char* pattern : {"/healthz", "/readyz", "/api/billing/usage/current", "/api/billing/usage/projection",
                              "/api/billing/usage/forecast", "/api/billing/usage/anomalies", "/api/billing/usage/analytics",
                              "/api/billing/usage/trends", "/api/billing/history", "/api/billing/upcoming-charges", "/api/billing/alerts",
                              "/api/billing/payment-methods", "/api/billing/plan-comparison", R"(/api/billing/period/([^/]+))",
                              R"(/api/billing/period/([^/]+)/download)"}) {
    server.Post(pattern, not_allowed);
    server.Put(pattern, not_allowed);
    server.Patch(pattern, not_allowed);
    server.Delete(pattern, not_allowed);
    server.Options(pattern, not_allowed);
  }
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    switch (response.status) {
      case 404: return send_error(response, 404, "not_found", "No such resource.");
      case 405: return send_error(response, 405, "method_not_allowed", "Method not allowed.");
      case 413: return send_error(response, 413, "payload_too_large", "Request body too large.");
      case 414: return send_error(response, 414, "uri_too_long", "Request URI too long.");
      case 431: return send_error(response, 431, "headers_too_large", "Request headers too large.");
      default:
        if (response.status >= 500) return send_error(response, response.status, "internal_error", "Internal server error.");
        return send_error(response, response.status, "bad_request", "Bad request.");
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& caught) {
      request_log.problem = caught.what();
    } catch (...) {
      request_log.problem = "unknown exception";
    }
    send_error(response, 500, "internal_error", "Internal server error.");
  });
}

}  // namespace gateway
