#include <iostream>
#include <string>

#include "greeting.h"

// A tiny line-oriented "server": answers each name read on stdin.
int main() {
  std::string line;
  while (std::getline(std::cin, line)) std::cout << Greeting(line) << '\n';
  return 0;
}
