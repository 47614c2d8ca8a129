/* argv and the environment as the start-up stack hands them over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d] = \"%s\"\n", i, argv[i]);
  printf("argv[argc] is %s\n", argv[argc] == NULL ? "NULL" : "not NULL");
  int count = 0;
  for (char **entry = environ; *entry != NULL; entry++) count++;
  printf("%d environment entries\n", count);
  const char *greeting = getenv("GREETING");
  printf("GREETING=%s\n", greeting == NULL ? "(unset)" : greeting);
  printf("HOME=%s\n", getenv("HOME") == NULL ? "(unset)" : getenv("HOME"));
  setenv("ADDED", "yes", 1);
  printf("ADDED=%s\n", getenv("ADDED"));
  return argc;
}
