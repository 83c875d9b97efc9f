#include "gateway/webhooks.h"

#include <httplib.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>

namespace gateway {

std::string webhook_signature(const std::string& secret, long long timestamp, const std::string& body) {
  const std::string signed_text = std::to_string(timestamp) + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), digest, &length);
  std::string hex;
  char pair[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return "t=" + std::to_string(timestamp) + ",v1=" + hex;
}

namespace {

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

struct Outcome {
  bool delivered;
  int status;         // 0 when no response came
  std::string error;  // empty when delivered
};

// POSTs the body; a 2xx answer is a delivery, anything else (other statuses, no answer within
// the time limit, a refused connection, a URL it cannot reach) a failed attempt.
Outcome post(const std::string& url, const std::string& body, const std::string& signature,
             const std::string& event_id, int attempt, int timeout_ms) {
  static const std::regex parts(R"(^(https?://[^/?#]+)([^#]*)$)");
  std::smatch match;
  if (!std::regex_match(url, match, parts)) return {false, 0, "not an http(s) URL"};
  httplib::Client client(match[1].str());
  const auto seconds = timeout_ms / 1000, microseconds = (timeout_ms % 1000) * 1000;
  client.set_connection_timeout(seconds, microseconds);
  client.set_read_timeout(seconds, microseconds);
  client.set_write_timeout(seconds, microseconds);
  const httplib::Headers headers = {{"Billing-Signature", signature},
                                    {"Billing-Event-Id", event_id},
                                    {"Idempotency-Key", "billing-event-" + event_id},
                                    {"Billing-Delivery-Attempt", std::to_string(attempt)},
                                    {"User-Agent", "company_billing-webhooks/1"}};
  const std::string path = match[2].str().empty() ? "/" : match[2].str();
  const httplib::Result response = client.Post(path.c_str(), headers, body, "application/json");
  if (!response) return {false, 0, "no response: " + httplib::to_string(response.error())};
  if (response->status >= 200 && response->status < 300) return {true, response->status, ""};
  return {false, response->status, "HTTP " + std::to_string(response->status)};
}

bool command_ok(PGconn* connection, const char* sql) {
  Result result(PQexec(connection, sql), PQclear);
  return PQresultStatus(result.get()) == PGRES_COMMAND_OK;
}

// Delivers the first due delivery, if any, in a transaction that holds its row; false when none
// was due (or the connection failed).
bool deliver_one(PGconn* connection, int timeout_ms) {
  if (!command_ok(connection, "BEGIN")) return false;
  Result due(PQexec(connection,
                    "SELECT delivery_id, event_id, url, secret, body, attempts FROM billing.due_webhooks(1)"),
             PQclear);
  if (PQresultStatus(due.get()) != PGRES_TUPLES_OK || PQntuples(due.get()) != 1) {
    if (PQresultStatus(due.get()) != PGRES_TUPLES_OK)
      std::cerr << "billing-gateway: webhooks: " << PQerrorMessage(connection);
    command_ok(connection, "ROLLBACK");
    return false;
  }
  const auto field = [&](int column) { return std::string(PQgetvalue(due.get(), 0, column)); };
  const std::string delivery = field(0), event_id = field(1), body = field(4);
  const int attempt = std::stoi(field(5)) + 1;
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  const Outcome outcome = post(field(2), body, webhook_signature(field(3), now, body), event_id, attempt, timeout_ms);
  const std::string status = outcome.status == 0 ? "" : std::to_string(outcome.status);
  const char* values[4] = {delivery.c_str(), outcome.delivered ? "true" : "false",
                           outcome.status == 0 ? nullptr : status.c_str(),
                           outcome.error.empty() ? nullptr : outcome.error.c_str()};
  Result attempted(PQexecParams(connection, "SELECT billing.webhook_attempted($1::bigint, $2::boolean, $3::integer, $4)",
                                4, nullptr, values, nullptr, nullptr, 0),
                   PQclear);
  if (PQresultStatus(attempted.get()) != PGRES_TUPLES_OK || !command_ok(connection, "COMMIT")) {
    std::cerr << "billing-gateway: webhooks: " << PQerrorMessage(connection);
    command_ok(connection, "ROLLBACK");
    return false;
  }
  return true;
}

}  // namespace

WebhookSender::WebhookSender(const Config& config) : config_(config) {
  if (config_.webhook_interval_ms > 0) thread_ = std::thread([this] { run(); });
}

WebhookSender::~WebhookSender() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void WebhookSender::run() {
  std::unique_ptr<PGconn, decltype(&PQfinish)> connection(nullptr, PQfinish);
  constexpr int kStepMs = 100;  // how soon a stop is noticed
  while (!stopping_) {
    if (!connection || PQstatus(connection.get()) != CONNECTION_OK) {
      connection.reset(PQconnectdb(config_.database.c_str()));
      if (PQstatus(connection.get()) != CONNECTION_OK || !command_ok(connection.get(), "LISTEN billing_alerts")) {
        connection.reset();
        for (int waited = 0; waited < config_.webhook_interval_ms && !stopping_; waited += kStepMs)
          std::this_thread::sleep_for(std::chrono::milliseconds(kStepMs));
        continue;
      }
    }
    while (!stopping_ && deliver_one(connection.get(), config_.webhook_timeout_ms)) {
    }
    // Until an alert is notified, the interval passes or the gateway stops.
    bool notified = false;
    for (int waited = 0; waited < config_.webhook_interval_ms && !stopping_ && !notified; waited += kStepMs) {
      pollfd socket{PQsocket(connection.get()), POLLIN, 0};
      if (socket.fd < 0) break;
      if (poll(&socket, 1, kStepMs) > 0) {
        if (!PQconsumeInput(connection.get())) break;
        while (PGnotify* notification = PQnotifies(connection.get())) {
          notified = true;
          PQfreemem(notification);
        }
      }
    }
  }
}

}  // namespace gateway
