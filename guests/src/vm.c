/*
 * A small bytecode interpreter (a stack machine) running a program that hashes its way
 * through a 48 MiB table: the host loop is instruction-fetch heavy, with the bytecode, the
 * VM's stack and the table in play. This is the ExecBlock-like workload. Iterations come
 * from stdin (default 2,000,000).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, AND, LT, JMP, JZ, TLOAD, TSTORE, HALT };

#define TABLE_WORDS (6u << 20) /* 48 MiB of uint64_t */
#define STACK_WORDS 256
#define LOCALS 8

static uint64_t run(const int64_t *code, uint64_t *table, uint64_t *locals) {
  uint64_t *stack = malloc(STACK_WORDS * sizeof *stack);
  long sp = 0, pc = 0;
  for (;;) {
    int64_t op = code[pc++];
    switch (op) {
      case PUSH: stack[sp++] = (uint64_t)code[pc++]; break;
      case LOAD: stack[sp++] = locals[code[pc++]]; break;
      case STORE: locals[code[pc++]] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
      case SHR: sp--; stack[sp - 1] >>= stack[sp]; break;
      case AND: sp--; stack[sp - 1] &= stack[sp]; break;
      case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case JMP: pc = code[pc]; break;
      case JZ: pc = stack[--sp] == 0 ? code[pc] : pc + 1; break;
      case TLOAD: stack[sp - 1] = table[stack[sp - 1] % TABLE_WORDS]; break;
      case TSTORE: sp -= 2; table[stack[sp] % TABLE_WORDS] = stack[sp + 1]; break;
      case HALT: {
        uint64_t result = locals[2];
        free(stack);
        return result;
      }
      default: printf("bad opcode %lld at %ld\n", (long long)op, pc - 1); exit(2);
    }
  }
}

int main(void) {
  long iterations = 0;
  if (scanf("%ld", &iterations) != 1 || iterations <= 0) iterations = 2000000;
  /* From sbrk, filled with word stores of distinct values: picolibc's malloc zeroes a new
     chunk with a byte-wise memset, which would dominate the trace. */
  uint64_t *table = sbrk(TABLE_WORDS * sizeof *table);
  uint64_t locals[LOCALS] = {0};
  if (table == (void *)-1) return 1;
  for (uint32_t i = 0; i < TABLE_WORDS; i++) table[i] = i;
  /* locals: 0 = i, 1 = limit, 2 = sum, 3 = h */
  const int64_t program[] = {
      /* 0 */ LOAD, 0, LOAD, 1, LT, JZ, 60,
      /* 7: h = (i * 0x9E3779B97F4A7C15) ^ (i >> 7) */
      LOAD, 0, PUSH, (int64_t)0x9E3779B97F4A7C15ull, MUL, LOAD, 0, PUSH, 7, SHR, XOR, STORE, 3,
      /* 20: sum += table[h] */
      LOAD, 2, LOAD, 3, TLOAD, ADD, STORE, 2,
      /* 28: table[h] = sum ^ i */
      LOAD, 3, LOAD, 2, LOAD, 0, XOR, TSTORE,
      /* 36: sum = sum * 3 + (h & 255) */
      LOAD, 2, PUSH, 3, MUL, LOAD, 3, PUSH, 255, AND, ADD, STORE, 2,
      /* 49: i = i + 1 */
      LOAD, 0, PUSH, 1, ADD, STORE, 0,
      /* 56 */ JMP, 0, HALT, HALT,
      /* 60 */ HALT};
  locals[1] = (uint64_t)iterations;
  uint64_t sum = run(program, table, locals);
  printf("vm: %ld iterations, sum %016llx\n", iterations, (unsigned long long)sum);
  return 0;
}
