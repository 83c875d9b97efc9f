// billing-gateway: the HTTP API of company_billing in front of the extension (README, "HTTP
// API"). One process: a thread pool serving HTTP, a pool of libpq connections, and a signal
// thread that stops the server on SIGTERM or SIGINT after the requests in flight finished.
#include <httplib.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "gateway/api.h"
#include "gateway/config.h"
#include "gateway/pool.h"
#include "gateway/webhooks.h"

int main(int argc, char** argv) {
  const gateway::Config config = gateway::parse_config(argc, argv);

  // Signals go to the signal thread only (blocked here, before any other thread starts).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that went away is a failed write, not the end of the process

  gateway::Pool pool(config.database, config.pool_size, config.pool_wait_ms);
  httplib::Server server;
  server.new_task_queue = [&config] { return new httplib::ThreadPool(static_cast<size_t>(config.threads)); };
  server.set_read_timeout(config.read_timeout_seconds, 0);
  server.set_write_timeout(config.read_timeout_seconds, 0);
  server.set_keep_alive_timeout(config.read_timeout_seconds);
  server.set_keep_alive_max_count(100000);
  server.set_payload_max_length(64 * 1024);  // the API takes no request bodies
  server.set_tcp_nodelay(true);              // small responses: no 40 ms wait for a delayed ACK
  try {
    gateway::install_routes(server, config, pool);
  } catch (const std::exception& error) {
    std::cerr << "billing-gateway: " << error.what() << "\n";
    return 2;
  }

  int port = config.port;
  if (port == 0) {
    port = server.bind_to_any_port(config.address);
  } else if (!server.bind_to_port(config.address, port)) {
    port = -1;
  }
  if (port < 0) {
    std::cerr << "billing-gateway: cannot listen on " << config.address << ":" << config.port << "\n";
    return 1;
  }
  if (!config.port_file.empty()) {
    const std::string temporary = config.port_file + ".tmp";
    std::ofstream(temporary) << port << "\n";
    std::rename(temporary.c_str(), config.port_file.c_str());
  }
  gateway::WebhookSender webhooks(config);
  std::cerr << "billing-gateway: listening on http://" << config.address << ":" << port << " (pool "
            << config.pool_size << ", threads " << config.threads << ", " << config.rate_limit
            << " requests a minute per token)\n";

  std::thread signal_thread([&server, stop_signals] {
    int received = 0;
    sigwait(&stop_signals, &received);
    std::cerr << "billing-gateway: signal " << received << ", finishing the requests in flight\n";
    server.stop();
  });
  const bool served = server.listen_after_bind();
  // listen_after_bind returns once stopped and its worker threads have finished their requests.
  if (signal_thread.joinable()) {
    pthread_kill(signal_thread.native_handle(), SIGTERM);  // in case the server stopped on its own
    signal_thread.join();
  }
  std::cerr << "billing-gateway: stopped\n";
  return served ? 0 : 1;
}
