#include "gateway/config.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <algorithm>

namespace gateway {
namespace {

constexpr const char* kUsage = R"(usage: billing-gateway [flags]
  --database CONNINFO   libpq connection string           BILLING_GATEWAY_DATABASE   (dbname=postgres)
  --address ADDRESS     listen address                     BILLING_GATEWAY_ADDRESS    (127.0.0.1)
  --port N              listen port, 0 = any free one      BILLING_GATEWAY_PORT       (8080)
  --pool-size N         database connections               BILLING_GATEWAY_POOL_SIZE  (2 x CPUs)
  --threads N           HTTP worker threads: clients       BILLING_GATEWAY_THREADS    (256)
                        served at once (keep-alive holds one)
  --rate-limit N        requests a minute per token        BILLING_GATEWAY_RATE_LIMIT (60)
  --read-timeout S      seconds a client may stay silent   BILLING_GATEWAY_READ_TIMEOUT (5)
  --portal-url URL      the payment provider's portal      BILLING_GATEWAY_PORTAL_URL
  --webhook-interval-ms N  look for due webhook retries   BILLING_GATEWAY_WEBHOOK_INTERVAL_MS (1000)
                        this often besides each alert's notification; 0: send no webhooks
  --webhook-timeout-ms N  one delivery's time limit        BILLING_GATEWAY_WEBHOOK_TIMEOUT_MS (10000)
  --port-file PATH      write the bound port there once listening
  --web-root DIR        serve the dashboard page from DIR   BILLING_GATEWAY_WEB_ROOT
                        (web/ of the checkout, after npm ci there; default ./web if it is complete)
)";

int to_int(std::string_view name, const std::string& value, int low, int high) {
  std::size_t used = 0;
  long parsed = 0;
  try {
    parsed = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || parsed < low || parsed > high)
    throw std::invalid_argument(std::string(name) + " must be an integer from " + std::to_string(low) + " to " +
                                std::to_string(high) + ", got \"" + value + "\"");
  return static_cast<int>(parsed);
}

void apply(Config& config, std::string_view name, const std::string& value) {
  if (name == "database") config.database = value;
  else if (name == "address") config.address = value;
  else if (name == "port") config.port = to_int(name, value, 0, 65535);
  else if (name == "pool-size") config.pool_size = to_int(name, value, 0, 1000);
  else if (name == "threads") config.threads = to_int(name, value, 1, 1000);
  else if (name == "rate-limit") config.rate_limit = to_int(name, value, 1, 1000000);
  else if (name == "read-timeout") config.read_timeout_seconds = to_int(name, value, 1, 3600);
  else if (name == "portal-url") config.portal_url = value;
  else if (name == "webhook-interval-ms") config.webhook_interval_ms = to_int(name, value, 0, 3600000);
  else if (name == "webhook-timeout-ms") config.webhook_timeout_ms = to_int(name, value, 100, 600000);
  else if (name == "port-file") config.port_file = value;
  else if (name == "web-root") {
    config.web_root = value;
    config.web_root_given = true;
  }
  else throw std::invalid_argument("unknown flag --" + std::string(name));
}

}  // namespace

Config parse_config(int argc, char** argv) {
  Config config;
  try {
    const std::pair<const char*, const char*> environment[] = {
        {"database", "BILLING_GATEWAY_DATABASE"},     {"address", "BILLING_GATEWAY_ADDRESS"},
        {"port", "BILLING_GATEWAY_PORT"},             {"pool-size", "BILLING_GATEWAY_POOL_SIZE"},
        {"threads", "BILLING_GATEWAY_THREADS"},       {"rate-limit", "BILLING_GATEWAY_RATE_LIMIT"},
        {"read-timeout", "BILLING_GATEWAY_READ_TIMEOUT"}, {"portal-url", "BILLING_GATEWAY_PORTAL_URL"},
        {"web-root", "BILLING_GATEWAY_WEB_ROOT"},     {"webhook-interval-ms", "BILLING_GATEWAY_WEBHOOK_INTERVAL_MS"},
        {"webhook-timeout-ms", "BILLING_GATEWAY_WEBHOOK_TIMEOUT_MS"}};
    for (const auto& [name, variable] : environment)
      if (const char* value = std::getenv(variable)) apply(config, name, value);
    for (int i = 1; i < argc; ++i) {
      std::string_view flag = argv[i];
      if (flag == "--help" || flag == "-h") {
        std::cout << kUsage;
        std::exit(0);
      }
      if (flag.substr(0, 2) != "--") throw std::invalid_argument("unexpected argument " + std::string(flag));
      flag.remove_prefix(2);
      const std::size_t equals = flag.find('=');
      if (equals != std::string_view::npos) {
        apply(config, flag.substr(0, equals), std::string(flag.substr(equals + 1)));
      } else {
        if (i + 1 >= argc) throw std::invalid_argument("--" + std::string(flag) + " needs a value");
        apply(config, flag, argv[++i]);
      }
    }
  } catch (const std::invalid_argument& error) {
    std::cerr << "billing-gateway: " << error.what() << "\n" << kUsage;
    std::exit(2);
  }
  if (!config.web_root_given) {
    std::ifstream page("web/dashboard/index.html");
    std::ifstream chart("web/node_modules/chart.js/dist/chart.umd.js");
    if (page && chart) config.web_root = "web";
  }
  if (config.pool_size == 0) config.pool_size = static_cast<int>(std::max(2u, 2 * std::thread::hardware_concurrency()));
  return config;
}

}  // namespace gateway
