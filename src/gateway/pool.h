// A fixed-size pool of libpq connections. Connections are opened when first needed and again
// after they broke, so the gateway recovers by itself when the database comes back. Waiting
// requests are served first come, first served: a returned connection goes straight to the
// request that has waited longest, so no request starves behind later ones.
#pragma once

#include <libpq-fe.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gateway {

class Pool;

// One connection, held by one request; returned to the pool when destroyed.
class Lease {
 public:
  Lease(Pool* pool, std::size_t slot, PGconn* connection) : pool_(pool), slot_(slot), connection_(connection) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  PGconn* connection() const { return connection_; }

 private:
  Pool* pool_;
  std::size_t slot_;
  PGconn* connection_;
};

class Pool {
 public:
  enum class Outcome { kLeased, kBusy, kUnreachable };

  Pool(std::string conninfo, int size, int wait_ms);
  ~Pool();

  // A connection within wait_ms: kBusy when none became free, kUnreachable when the database
  // cannot be connected to (`error` says why, for the log).
  Outcome acquire(std::unique_ptr<Lease>& lease, std::string& error);

 private:
  friend class Lease;
  struct Waiter {
    std::condition_variable handed_over;
    bool served = false;
    std::size_t slot = 0;
  };
  void give_back(std::size_t slot, PGconn* connection);
  PGconn* connect(std::string& error) const;

  const std::string conninfo_;
  const int wait_ms_;
  std::mutex mutex_;
  std::vector<PGconn*> connections_;  // per slot: connected, or nullptr (connect when leased)
  std::vector<std::size_t> free_;     // slots not leased
  std::deque<Waiter*> waiters_;       // requests waiting for a slot, oldest first
};

}  // namespace gateway
