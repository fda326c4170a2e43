// How sipgwctl answers: exit codes, the one-line error on stderr, tables
// and records for people, JSON for scripts (--json). Renderers write to a
// stream so they are unit-tested (tests/db/ctl_output_test.cpp).
#pragma once

#include "db/admin.h"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

namespace sipgw::db {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;   // usage or validation error: the database is unchanged
constexpr int kExitDatabase = 2;  // cannot open, locked, newer schema

// "sipgwctl: message" on stderr; returns code.
int fail(int code, const std::string& message);
int fail(const AdminError& error);

// A field as a person reads it: "-" for none, yes/no, *_at columns as UTC.
// Text is shown as routing::text_from_wire would have stored it, so a row
// written before that rule (or by hand) cannot garble a terminal.
std::string as_text(const std::string& column, const FieldValue& value);
// JSON text of a value: bytes that are not UTF-8 become U+FFFD instead of
// aborting sipgwctl (nlohmann's default throws).
std::string json_text(const nlohmann::ordered_json& value);
nlohmann::ordered_json as_json(const FieldValue& value);
nlohmann::ordered_json as_json(const Record& record);
nlohmann::ordered_json as_json(const Records& records);

// Aligned columns with a header line; nothing for no rows.
void print_table(std::ostream& out, const Records& rows);
// "key: value" lines.
void print_record(std::ostream& out, const Record& record);

// Prints a list or one record (JSON with --json); the error otherwise.
int output(bool json, const AdminResult<Records>& rows);
int output(bool json, const AdminResult<Record>& row);
// Prints message on success; the error otherwise.
int done(const AdminResult<void>& result, const std::string& message);

}  // namespace sipgw::db
