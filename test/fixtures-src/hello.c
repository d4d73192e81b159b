/* A tiny console program: the PE executable fixture. */
#include <stdio.h>

int main(int argc, char **argv) {
  printf("hello from a vaultsign test fixture (%d argument%s)\n", argc - 1, argc == 2 ? "" : "s");
  return argv[0] ? 0 : 1;
}
