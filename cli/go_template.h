// A subset of Go's text/template, as Docker's --format uses it, evaluated over JSON values:
// text, {{.Field}}, {{.A.B}}, {{.}}, string/number literals, pipes (`{{.X | json}}`),
// {{if}}/{{else}}/{{else if}}/{{end}}, {{range}}/{{else}}/{{end}} (rebinding `.`), trim markers
// ({{- -}}), and the functions json, index, join, split, lower, upper, title, len, print,
// println, not, and, or, eq, ne. Docker's "table" prefix marks a table format.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::cli {

/// A template that does not parse or cannot be executed on a value; the message starts with
/// "template: " as Go's does.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class GoTemplate {
 public:
  /// Parses `format` as Docker's formatter does: a leading "table" is dropped (see is_table()),
  /// surrounding spaces trimmed, and the two-character sequences `\t` and `\n` become a tab and
  /// a newline. Throws TemplateError.
  explicit GoTemplate(const std::string& format);
  ~GoTemplate();
  GoTemplate(GoTemplate&&) noexcept;
  GoTemplate& operator=(GoTemplate&&) noexcept;

  bool is_table() const { return table_; }
  /// The output for `data`. A missing key prints "<no value>", JSON null "<nil>", arrays
  /// "[a b]", objects "map[k:v]", as Go prints them. Throws TemplateError.
  std::string Execute(const nlohmann::json& data) const;

  struct Node;

 private:
  bool table_ = false;
  std::vector<std::unique_ptr<Node>> nodes_;
};

/// Renders `rows` with `format` as Docker's formatter does: a table format gets a header line
/// (the template executed on `header`) and aligned columns; other formats print one execution
/// per row, each followed by a newline.
std::string RenderRows(const GoTemplate& format, const nlohmann::json& header,
                       const std::vector<nlohmann::json>& rows);

}  // namespace kiln::cli
