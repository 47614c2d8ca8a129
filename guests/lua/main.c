/*
 * Runs the Lua script it reads from standard input (memspace run lua.elf --stdin x.lua),
 * with the base, coroutine, table, string, math and utf8 libraries.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

static const luaL_Reg libraries[] = {
    {LUA_GNAME, luaopen_base},        {LUA_COLIBNAME, luaopen_coroutine}, {LUA_TABLIBNAME, luaopen_table},
    {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},     {LUA_UTF8LIBNAME, luaopen_utf8},
    {NULL, NULL}};

int main(void) {
  size_t capacity = 1 << 16, length = 0;
  char *script = malloc(capacity);
  int c;
  while (script && (c = getchar()) != EOF) {
    if (length == capacity) script = realloc(script, capacity *= 2);
    if (script) script[length++] = (char)c;
  }
  if (!script) return 1;
  lua_State *L = luaL_newstate();
  for (const luaL_Reg *lib = libraries; lib->func; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  int status = luaL_loadbuffer(L, script, length, "=stdin") || lua_pcall(L, 0, 0, 0);
  if (status != LUA_OK) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  lua_close(L);
  free(script);
  return 0;
}
