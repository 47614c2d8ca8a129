/* printf of floats and doubles in every format. */
#include <stdio.h>

int main(void) {
  double values[] = {0.0, -0.0, 1.0, -1.5, 3.141592653589793, 1e-300, 6.02214076e23, 1.0 / 3.0, 123456.789};
  for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) printf("%f %e %g %.17g %a\n", values[i], values[i], values[i], values[i], values[i]);
  float f = 2.5f;
  printf("%.3f %10.4f %-10.2e|\n", f * 1.1f, (double)f / 7, (double)f * 1e10);
  return 0;
}
