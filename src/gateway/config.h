// The gateway's settings: command-line flags, each with an environment variable as default.
#pragma once

#include <string>

namespace gateway {

struct Config {
  std::string database = "dbname=postgres";  // libpq connection string (BILLING_GATEWAY_DATABASE)
  std::string address = "127.0.0.1";         // listen address (BILLING_GATEWAY_ADDRESS)
  int port = 8080;                           // listen port; 0 picks a free one (BILLING_GATEWAY_PORT)
  // Database connections (BILLING_GATEWAY_POOL_SIZE); 0: twice the CPU count, which is about
  // what a server with that many cores runs best (more backends add latency, not throughput).
  int pool_size = 0;
  // HTTP worker threads (BILLING_GATEWAY_THREADS). A kept-alive connection holds a thread, so
  // this is also how many clients are served at once; others wait for a thread.
  int threads = 256;
  int rate_limit = 60;                       // requests a minute per token (BILLING_GATEWAY_RATE_LIMIT)
  int read_timeout_seconds = 5;              // a client that sends nothing this long is cut off
  int pool_wait_ms = 5000;                   // longest wait for a free database connection
  // The webhook sender (src/gateway/webhooks.cpp): how often it looks for due retries when no
  // alert is notified (BILLING_GATEWAY_WEBHOOK_INTERVAL_MS; 0 switches the sender off), and how
  // long one delivery may take (BILLING_GATEWAY_WEBHOOK_TIMEOUT_MS).
  int webhook_interval_ms = 1000;
  int webhook_timeout_ms = 10000;
  std::string portal_url;                    // the payment provider's customer portal (BILLING_GATEWAY_PORTAL_URL)
  std::string port_file;                     // where to write the bound port (for port 0)
  // web/ of the checkout: serves /dashboard (BILLING_GATEWAY_WEB_ROOT). Unset: ./web when it holds
  // the page and Chart.js (the gateway started from the checkout after npm ci).
  std::string web_root;
  bool web_root_given = false;
};

// Parses argv over the environment; prints usage and exits on --help or a bad flag.
Config parse_config(int argc, char** argv);

}  // namespace gateway
