#include "cli/go_template.h"

#include <catch2/catch.hpp>

namespace kiln::cli {
namespace {

using nlohmann::json;

const json kData = json::parse(R"({
  "Repository": "app", "Tag": "1", "Size": 5600000, "Empty": "", "Nil": null,
  "Config": {"Env": ["A=1", "B=2"], "Labels": {"k": "v", "x.y": "z"}, "User": "Root"},
  "Tags": [], "Flag": true
})");

TEST_CASE("Go templates evaluate over JSON", "[go_template]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{{.Repository}}:{{.Tag}}", "app:1"},
      {"{{.Config.User}}", "Root"},
      {"{{.Size}}", "5600000"},
      {"{{.Missing}}", "<no value>"},
      {"{{.Nil}}", "<nil>"},
      {"{{json .Config.Env}}", R"(["A=1","B=2"])"},
      {"{{.Config.Env | json}}", R"(["A=1","B=2"])"},
      {"{{index .Config.Env 1}}", "B=2"},
      {R"({{index .Config.Labels "x.y"}})", "z"},
      {R"({{join .Config.Env ","}})", "A=1,B=2"},
      {"{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]"},
      {"{{range .Tags}}x{{else}}none{{end}}", "none"},
      {"{{if .Flag}}yes{{else}}no{{end}}", "yes"},
      {"{{if .Empty}}yes{{else}}no{{end}}", "no"},
      {"{{if .Empty}}a{{else if .Flag}}b{{else}}c{{end}}", "b"},
      {"{{lower .Config.User}} {{upper .Repository}}", "root APP"},
      {"{{.Config.Env}}", "[A=1 B=2]"},
      {"{{.Config.Labels}}", "map[k:v x.y:z]"},
      {"{{len .Config.Env}}", "2"},
      {"a  {{- .Tag -}}  b", "a1b"},
      {R"(x\ty)", "x\ty"},
  };
  for (const auto& [format, expected] : cases) {
    INFO(format);
    CHECK(GoTemplate(format).Execute(kData) == expected);
  }
  CHECK(GoTemplate("{{.}}").Execute(json("plain")) == "plain");
}

TEST_CASE("malformed templates and bad calls throw TemplateError", "[go_template]") {
  for (const std::string bad : {"{{.Repository", "{{if .Flag}}x", "{{end}}", "{{nosuch .X}}",
                                "{{index .Config.Env 5}}", "{{.Repository.Sub}}"}) {
    INFO(bad);
    CHECK_THROWS_AS(GoTemplate(bad).Execute(kData), TemplateError);
  }
}

TEST_CASE("table formats print a header and aligned columns", "[go_template]") {
  const GoTemplate table("table {{.Repository}}\\t{{.Tag}}");
  CHECK(table.is_table());
  const json header = {{"Repository", "REPOSITORY"}, {"Tag", "TAG"}};
  CHECK(RenderRows(table, header, {kData}) == "REPOSITORY   TAG\napp          1\n");
  const GoTemplate plain("{{.Repository}}");
  CHECK_FALSE(plain.is_table());
  CHECK(RenderRows(plain, header, {kData, kData}) == "app\napp\n");
}

}  // namespace
}  // namespace kiln::cli
