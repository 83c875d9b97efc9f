#include "core/csv.h"

namespace billing {

namespace {

bool starts_formula(char c) { return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r'; }

// Where a spreadsheet may start a new cell inside this one: it splits on ',' or ';' when it
// guesses the separator, and on line ends.
bool splits_cells(char c) { return c == ',' || c == ';' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string csv_field(std::string_view value) {
  std::string cell;
  cell.reserve(value.size() + 1);
  // Every piece of the cell that a spreadsheet could read as a cell of its own and run as a
  // formula (the start, and the text after a separator) gets a leading apostrophe.
  bool piece_starts = true;
  for (const char c : value) {
    if (piece_starts && starts_formula(c)) cell += '\'';
    cell += c;
    piece_starts = splits_cells(c);
  }
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (const char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string csv_record(const std::vector<std::optional<std::string>>& fields) {
  std::string record;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) record += ',';
    if (fields[i]) record += csv_field(*fields[i]);
  }
  return record;
}

}  // namespace billing
