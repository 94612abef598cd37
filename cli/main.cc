// kiln: builds container images from Dockerfiles through ninja, without a daemon.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::printf("Usage: kiln COMMAND [OPTIONS]\n");
    return argc < 2 ? 2 : 0;
  }
  std::fprintf(stderr, "kiln: '%s' is not a kiln command.\nSee 'kiln --help'.\n", argv[1]);
  return 2;
}
