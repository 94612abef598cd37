#pragma once
#include <string>

/// The text the server answers with.
std::string Greeting(const std::string& name);
