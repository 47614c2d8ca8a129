/* scanf of floats from standard input, and strtod round trips through %.17g. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  double value, total = 0;
  int count = 0;
  while (scanf("%lf", &value) == 1) { total += value; count++; }
  printf("%d values, total %.10g\n", count, total);
  const char *texts[] = {"0.1", "2.5e-308", "1.7976931348623157e308", "-123.456", "3.14159265358979323846", "1e23", "0x1.8p1"};
  int exact = 0;
  for (unsigned i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    double parsed = strtod(texts[i], NULL);
    char printed[64];
    snprintf(printed, sizeof printed, "%.17g", parsed);
    double again = strtod(printed, NULL);
    exact += memcmp(&parsed, &again, sizeof parsed) == 0;
    printf("%s -> %s\n", texts[i], printed);
  }
  printf("%d exact round trips\n", exact);
  return 0;
}
