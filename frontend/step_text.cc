#include "frontend/step_text.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace kiln {

std::string ShownWord(const std::string& word) {
  const bool plain = !word.empty() && std::none_of(word.begin(), word.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'';
  });
  return plain ? word : nlohmann::json(word).dump();
}

std::string ShownCommand(const std::vector<std::string>& args, bool shell_form) {
  if (shell_form) return args.empty() ? std::string() : args[0];
  return nlohmann::json(args).dump();
}

std::string PairsText(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string text;
  // Appends only: `" " + ShownWord(...)` trips GCC 12's -Wrestrict at -O3.
  for (const auto& [key, value] : pairs)
    text.append(" ").append(ShownWord(key)).append("=").append(ShownWord(value));
  return text;
}

std::string WordsText(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) text.append(" ").append(ShownWord(word));
  return text;
}

std::string RunText(const std::vector<std::string>& flags, const Step& step) {
  std::string text = "RUN";
  for (const std::string& flag : flags) text.append(" ").append(flag);
  text.append(" ");
  if (step.shell_form && !step.command.empty())
    text.append(step.command[0]);  // what ShownCommand gives, without a copy
  else
    text.append(ShownCommand(step.command, step.shell_form));
  return text;
}

std::string TransferText(const Step& step, const std::string& from) {
  std::string text = step.instruction;
  if (!from.empty()) text += " --from=" + from;
  if (!step.chown.empty()) text += " --chown=" + step.chown;
  if (!step.chmod.empty()) text += " --chmod=" + step.chmod;
  if (step.link) text += " --link";
  if (step.parents) text += " --parents";
  for (const std::string& pattern : step.excludes)
    text.append(" --exclude=").append(ShownWord(pattern));
  if (!step.checksum.empty()) text += " --checksum=" + step.checksum;
  if (step.keep_git_dir) text += " --keep-git-dir";
  return text + WordsText(step.sources) + " " + ShownWord(step.destination);
}

std::string HealthcheckText(const std::vector<std::string>& flags, const Healthcheck& check) {
  if (check.test.size() == 1 && check.test[0] == "NONE") return "HEALTHCHECK NONE";
  std::string text = "HEALTHCHECK";
  for (const std::string& flag : flags) text += " " + flag;
  if (check.test[0] == "CMD-SHELL") return text + " CMD " + check.test[1];
  return text + " CMD " +
         nlohmann::json(std::vector<std::string>(check.test.begin() + 1, check.test.end())).dump();
}

}  // namespace kiln
