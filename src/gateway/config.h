// The gateway's settings: command-line flags, each with an environment variable as default.
#pragma once

#include <string>

namespace gateway {

struct Config {
  std::string database = "dbname=postgres";  // libpq connection string (BILLING_GATEWAY_DATABASE)
  std::string address = "127.0.0.1";         // listen address (BILLING_GATEWAY_ADDRESS)
  int port = 8080;                           // listen port; 0 picks a free one (BILLING_GATEWAY_PORT)
  int pool_size = 8;                         // database connections (BILLING_GATEWAY_POOL_SIZE)
  int threads = 16;                          // HTTP worker threads (BILLING_GATEWAY_THREADS)
  int rate_limit = 60;                       // requests a minute per token (BILLING_GATEWAY_RATE_LIMIT)
  int read_timeout_seconds = 5;              // a client that sends nothing this long is cut off
  int pool_wait_ms = 5000;                   // longest wait for a free database connection
  std::string portal_url;                    // the payment provider's customer portal (BILLING_GATEWAY_PORTAL_URL)
  std::string port_file;                     // where to write the bound port (for port 0)
};

// Parses argv over the environment; prints usage and exits on --help or a bad flag.
Config parse_config(int argc, char** argv);

}  // namespace gateway
