#include "db/ctl_output.h"

#include "db/ctl_values.h"
#include "routing/tokens.h"

#include <iostream>

namespace sipgw::db {

int fail(int code, const std::string& message) {
  std::cerr << "sipgwctl: " << message << "\n";
  return code;
}

int fail(const AdminError& e) { return fail(e.kind == AdminError::Kind::database ? kExitDatabase : kExitInvalid, e.message); }

namespace {
bool is_time_column(const std::string& name) { return name.size() > 3 && name.ends_with("_at"); }
}  // namespace

std::string as_text(const std::string& column, const FieldValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return "-";
  if (auto* b = std::get_if<bool>(&v)) return *b ? "yes" : "no";
  if (auto* i = std::get_if<std::int64_t>(&v)) return is_time_column(column) ? format_time(*i) : std::to_string(*i);
  auto& s = std::get<std::string>(v);
  return s.empty() ? "\"\"" : routing::text_from_wire(s, s.size());
}

std::string json_text(const nlohmann::ordered_json& value) {
  return value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

nlohmann::ordered_json as_json(const FieldValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return nullptr;
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return std::get<std::string>(v);
}

nlohmann::ordered_json as_json(const Record& r) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (auto& [k, v] : r) o[k] = as_json(v);
  return o;
}

nlohmann::ordered_json as_json(const Records& rs) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (auto& r : rs) a.push_back(as_json(r));
  return a;
}

void print_table(std::ostream& out, const Records& rows) {
  if (rows.empty()) return;
  std::vector<std::size_t> widths;
  for (auto& [k, v] : rows[0]) widths.push_back(k.size());
  std::vector<std::vector<std::string>> cells;
  for (auto& r : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line.push_back(as_text(r[i].first, r[i].second));
      widths[i] = std::max(widths[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  auto print_line = [&](auto get) {
    std::string text;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      std::string cell = get(i);
      text += cell;
      if (i + 1 < widths.size()) text += std::string(widths[i] - cell.size() + 2, ' ');
    }
    out << text << "\n";
  };
  print_line([&](std::size_t i) { return rows[0][i].first; });
  for (auto& line : cells) print_line([&](std::size_t i) { return line[i]; });
}

void print_record(std::ostream& out, const Record& r) {
  std::size_t width = 0;
  for (auto& [k, v] : r) width = std::max(width, k.size());
  for (auto& [k, v] : r) out << k << ":" << std::string(width - k.size() + 1, ' ') << as_text(k, v) << "\n";
}

int output(bool json, const AdminResult<Records>& rows) {
  if (!rows) return fail(rows.error());
  if (json) {
    std::cout << json_text(as_json(*rows)) << "\n";
  } else {
    print_table(std::cout, *rows);
  }
  return kExitOk;
}

int output(bool json, const AdminResult<Record>& row) {
  if (!row) return fail(row.error());
  if (json) {
    std::cout << json_text(as_json(*row)) << "\n";
  } else {
    print_record(std::cout, *row);
  }
  return kExitOk;
}

int done(const AdminResult<void>& r, const std::string& message) {
  if (!r) return fail(r.error());
  std::cout << message << "\n";
  return kExitOk;
}

}  // namespace sipgw::db
