#include "core/json_writer.h"

#include <cstdio>

namespace billing {

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string json_object(std::initializer_list<JsonMember> members) {
  size_t size = 2;
  for (const JsonMember& member : members) size += member.key.size() + member.value.size() + 4;
  std::string out;
  out.reserve(size);
  out += '{';
  for (const JsonMember& member : members) {
    if (out.size() > 1) out += ',';
    out += json_string(member.key);
    out += ':';
    out += member.value;
  }
  out += '}';
  return out;
}

}  // namespace billing
