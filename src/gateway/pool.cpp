#include "gateway/pool.h"

#include <algorithm>
#include <chrono>

namespace gateway {

Lease::~Lease() { pool_->give_back(slot_, connection_); }

Pool::Pool(std::string conninfo, int size, int wait_ms)
    : conninfo_(std::move(conninfo)), wait_ms_(wait_ms), connections_(static_cast<std::size_t>(size), nullptr) {
  for (std::size_t slot = connections_.size(); slot > 0; --slot) free_.push_back(slot - 1);
}

Pool::~Pool() {
  for (PGconn* connection : connections_)
    if (connection != nullptr) PQfinish(connection);
}

PGconn* Pool::connect(std::string& error) const {
  // Earlier keywords are defaults that the connection string (expanded from dbname) overrides.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"3", "billing-gateway", conninfo_.c_str(), nullptr};
  PGconn* connection = PQconnectdbParams(keywords, values, 1);
  if (connection != nullptr && PQstatus(connection) == CONNECTION_OK) return connection;
  error = connection != nullptr ? PQerrorMessage(connection) : "out of memory";
  if (connection != nullptr) PQfinish(connection);
  return nullptr;
}

Pool::Outcome Pool::acquire(std::unique_ptr<Lease>& lease, std::string& error) {
  std::size_t slot = 0;
  PGconn* connection = nullptr;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!free_.empty() && waiters_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      Waiter waiter;
      waiters_.push_back(&waiter);
      const bool served = waiter.handed_over.wait_for(lock, std::chrono::milliseconds(wait_ms_),
                                                      [&] { return waiter.served; });
      if (!served) {
        waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &waiter));
        return Outcome::kBusy;
      }
      slot = waiter.slot;
    }
    connection = connections_[slot];
  }
  if (connection != nullptr && PQstatus(connection) != CONNECTION_OK) {
    PQfinish(connection);
    connection = nullptr;
  }
  if (connection == nullptr) connection = connect(error);
  if (connection == nullptr) {
    give_back(slot, nullptr);
    return Outcome::kUnreachable;
  }
  lease = std::make_unique<Lease>(this, slot, connection);
  return Outcome::kLeased;
}

void Pool::give_back(std::size_t slot, PGconn* connection) {
  // A connection left inside a transaction (or broken) is not reused: the next request
  // would otherwise inherit its state.
  if (connection != nullptr &&
      (PQstatus(connection) != CONNECTION_OK || PQtransactionStatus(connection) != PQTRANS_IDLE)) {
    PQfinish(connection);
    connection = nullptr;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  connections_[slot] = connection;
  if (waiters_.empty()) {
    free_.push_back(slot);
    return;
  }
  Waiter* oldest = waiters_.front();
  waiters_.pop_front();
  oldest->slot = slot;
  oldest->served = true;
  oldest->handed_over.notify_one();
}

}  // namespace gateway
