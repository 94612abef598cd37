// The text of a step as users read it (`kiln graph`, build progress, image history): the
// instruction after expansion, its words quoted where they would not read back as one word.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "frontend/step_graph.h"

namespace kiln {

/// `word` as written when it reads back as one word, else as a JSON string ("a b" quoted; an
/// empty word is "").
std::string ShownWord(const std::string& word);

/// A shell-form command as written (its one string); an exec-form one as a JSON array.
std::string ShownCommand(const std::vector<std::string>& args, bool shell_form);

/// " key=value" for each pair (ENV, LABEL), both shown as words; an empty value is "".
std::string PairsText(const std::vector<std::pair<std::string, std::string>>& pairs);

/// " word" for each word, shown.
std::string WordsText(const std::vector<std::string>& words);

/// "RUN", the flags as written (the mount defaults lowering fills in are noise to a reader),
/// then the step's command.
std::string RunText(const std::vector<std::string>& flags, const Step& step);

/// A COPY or ADD step: its instruction, `from` as written (--from), its other flags, sources
/// and destination.
std::string TransferText(const Step& step, const std::string& from);

/// "HEALTHCHECK NONE", or "HEALTHCHECK", the flags as written and the check's command.
std::string HealthcheckText(const std::vector<std::string>& flags, const Healthcheck& check);

}  // namespace kiln
