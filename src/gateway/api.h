// The HTTP API (README, "HTTP API"): the routes, bearer-token authentication through
// billing.authenticate_token(), the per-token rate limit through billing.throttle_detail(),
// the envelope {"success": ..., "data" | "error": ...}, ETags, the CSV stream and the JSON
// access log.
#pragma once

#include <httplib.h>

#include "gateway/config.h"
#include "gateway/pool.h"

namespace gateway {

void install_routes(httplib::Server& server, const Config& config, Pool& pool);

}  // namespace gateway
