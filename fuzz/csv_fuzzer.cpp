// libFuzzer target: the CSV writer. Decoding a written field gives back the input (with the
// apostrophe that neutralizes a formula), and no written field starts a formula.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/csv.h"

namespace {

std::string decode(const std::string& field) {
  if (field.empty() || field.front() != '"') return field;
  if (field.size() < 2 || field.back() != '"') __builtin_trap();
  std::string out;
  for (size_t i = 1; i + 1 < field.size(); ++i) {
    out += field[i];
    if (field[i] == '"') {
      if (field[i + 1] != '"') __builtin_trap();  // a lone quote inside a quoted field
      ++i;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string field = billing::csv_field(input);
  const std::string decoded = decode(field);
  // Removing the apostrophes the writer may add (before =+-@ tab CR at the start of the cell or
  // after , ; tab CR LF) must give the input back, and no such piece may still start a formula.
  std::string expected;
  bool piece_starts = true;
  for (const char c : input) {
    const bool formula = std::string_view("=+-@\t\r").find(c) != std::string_view::npos;
    if (piece_starts && formula) expected += '\'';
    expected += c;
    piece_starts = std::string_view(",;\t\r\n").find(c) != std::string_view::npos;
  }
  if (decoded != expected) __builtin_trap();
  if (field.find_first_of(",\"\r\n") != std::string::npos && field.front() != '"') __builtin_trap();
  return 0;
}
