/* File I/O in the current directory: create, write, read back, seek, stat, list, rename, remove. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  FILE *out = fopen("notes.txt", "w");
  if (out == NULL) { perror("fopen notes.txt"); return 1; }
  for (int i = 0; i < 100; i++) fprintf(out, "line %d: %d\n", i, i * i);
  fclose(out);

  struct stat status;
  if (stat("notes.txt", &status) != 0) { perror("stat"); return 1; }
  printf("notes.txt: %lld bytes, regular %d\n", (long long)status.st_size, S_ISREG(status.st_mode));

  FILE *in = fopen("notes.txt", "r");
  char line[64];
  long sum = 0;
  int lines = 0;
  while (fgets(line, sizeof line, in) != NULL) { lines++; sum += strtol(strchr(line, ':') + 1, NULL, 10); }
  printf("%d lines, sum %ld\n", lines, sum);
  fseek(in, -12, SEEK_END);
  printf("tail: %s", fgets(line, sizeof line, in));
  printf("ftell %ld\n", ftell(in));
  fclose(in);

  int fd = open("input.txt", O_RDONLY);
  if (fd < 0) { perror("open input.txt"); return 1; }
  char buffer[256];
  ssize_t got = read(fd, buffer, sizeof buffer - 1);
  buffer[got > 0 ? got : 0] = 0;
  printf("input.txt (%zd bytes): %s", got, buffer);
  printf("pread at 6: %.5s\n", (pread(fd, buffer, 5, 6), buffer));
  close(fd);

  printf("open missing: %d errno %d\n", open("missing.txt", O_RDONLY), errno);
  printf("mkdir sub: %d\n", mkdir("sub", 0755));
  printf("mkdir sub again: %d errno %d\n", mkdir("sub", 0755), errno);
  printf("rename: %d\n", rename("notes.txt", "sub/moved.txt"));
  printf("stat old name: %d errno %d\n", stat("notes.txt", &status), errno);

  fd = open("sub/appended.txt", O_WRONLY | O_CREAT | O_APPEND, 0644);
  write(fd, "one\n", 4);
  lseek(fd, 0, SEEK_SET);
  write(fd, "two\n", 4);
  close(fd);
  fd = open("sub/appended.txt", O_RDONLY);
  got = read(fd, buffer, sizeof buffer);
  printf("appended: %.*s", (int)got, buffer);
  close(fd);

  char *names[16];
  int count = 0;
  DIR *directory = opendir("sub");
  struct dirent *entry;
  while ((entry = readdir(directory)) != NULL && count < 16) names[count++] = strdup(entry->d_name);
  closedir(directory);
  qsort(names, count, sizeof names[0], by_name);
  for (int i = 0; i < count; i++) printf("sub/%s\n", names[i]);

  printf("rmdir non-empty: %d errno %d\n", rmdir("sub"), errno);
  printf("unlink: %d %d\n", unlink("sub/moved.txt"), unlink("sub/appended.txt"));
  printf("rmdir: %d\n", rmdir("sub"));
  printf("access input.txt: %d\n", access("input.txt", R_OK));
  return 0;
}
