// The webhook sender: delivers the extension's alert events (billing.webhook_deliveries) to each
// company's URL, signed, and reports every attempt back (billing.webhook_attempted decides the
// retries). One thread with a connection of its own, woken by NOTIFY billing_alerts and every
// --webhook-interval-ms for retries that fall due. Several gateways share the work (SKIP LOCKED).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "gateway/config.h"

namespace gateway {

// The signature header's value for `body` sent at `timestamp` (Unix seconds):
// "t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>".
std::string webhook_signature(const std::string& secret, long long timestamp, const std::string& body);

class WebhookSender {
 public:
  explicit WebhookSender(const Config& config);
  ~WebhookSender();  // stops and joins the thread
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

 private:
  void run();
  const Config config_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace gateway
