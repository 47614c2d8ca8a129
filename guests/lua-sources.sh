# Sourced by build.sh and build-linux.sh: LUA_SOURCES, the C files of the Lua interpreter's
# core and the libraries lua/main.c opens, under $LUA_DIR (Debian's lua5.4 source, unpacked).
LUA_CORE=(lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate lstring ltable ltm lundump lvm lzio lauxlib lbaselib lcorolib lmathlib lstrlib ltablib lutf8lib)
LUA_SOURCES=()
for unit in "${LUA_CORE[@]}"; do LUA_SOURCES+=("$LUA_DIR/src/$unit.c"); done
