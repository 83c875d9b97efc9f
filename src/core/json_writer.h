// Minimal JSON text building for the documents the core returns. Numbers are passed as
// already formatted decimal text, so money keeps its exact digits ("174.00") in the jsonb.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "core/pure.h"

namespace billing {

struct JsonMember {
  std::string_view key;
  std::string value;  // rendered JSON: a number's text, json_string(...), json_object(...), "null"
};

std::string json_string(std::string_view text);
std::string json_object(std::initializer_list<JsonMember> members);

}  // namespace billing
