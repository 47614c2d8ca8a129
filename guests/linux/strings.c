/* String functions: copy, compare, search, tokenise, convert, format. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char buffer[128];
  strcpy(buffer, "The quick brown fox");
  strcat(buffer, " jumps over the lazy dog");
  printf("%zu \"%s\"\n", strlen(buffer), buffer);
  printf("strstr: %s\n", strstr(buffer, "fox"));
  printf("strchr: %s | strrchr: %s\n", strchr(buffer, 'o'), strrchr(buffer, 'o'));
  printf("strcmp: %d %d %d\n", strcmp("abc", "abd") < 0, strcmp("b", "a") > 0, strncmp("abcX", "abcY", 3));
  printf("strcasecmp: %d memcmp: %d\n", strcasecmp("HeLLo", "hello"), memcmp("ab\0c", "ab\0d", 4) < 0);
  char copy[128];
  strcpy(copy, buffer);
  int words = 0;
  for (char *token = strtok(copy, " "); token != NULL; token = strtok(NULL, " ")) words++;
  printf("words: %d\n", words);
  for (char *p = buffer; *p; p++) *p = (char)toupper((unsigned char)*p);
  printf("upper: %s\n", buffer);
  char *end;
  printf("strtol: %ld %ld %ld\n", strtol("-12345", NULL, 10), strtol("ff", NULL, 16), strtol("0777", &end, 0));
  printf("strtoul: %lu atoi: %d\n", strtoul("18446744073709551615", NULL, 10), atoi("  42abc"));
  char formatted[32];
  int length = snprintf(formatted, sizeof formatted, "%s-%05d-%x", "id", 42, 3054);
  printf("snprintf: %d \"%s\"\n", length, formatted);
  printf("truncated: %d\n", snprintf(formatted, 8, "%s", "0123456789abcdef"));
  memmove(buffer + 4, buffer, 10);
  buffer[14] = 0;
  printf("memmove: %s\n", buffer);
  char *duplicate = strdup("duplicate");
  printf("strdup: %s %zu\n", duplicate, strspn("aaabbc", "ab"));
  free(duplicate);
  return 0;
}
