#include "core/json_writer.h"

#include <cstdio>

namespace billing {
namespace {

void append_escaped(std::string& out, char c) {
  switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += escaped;
    }
  }
}

// Appends `text` as a JSON string: runs of characters that need no escape are copied at once.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
    out.append(text.substr(run_start, i - run_start));
    append_escaped(out, c);
    run_start = i + 1;
  }
  out.append(text.substr(run_start));
  out += '"';
}

}  // namespace

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
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
    append_json_string(out, member.key);
    out += ':';
    out += member.value;
  }
  out += '}';
  return out;
}

}  // namespace billing
