#include <iostream>

int main() {
  std::cout << "hello from a static binary in a scratch image\n";
  return 0;
}
