/* lclass: Lua classes of C objects (see lclass.h). */
#include "bind/lclass.h"

#include <string.h>

void lclass_new(lua_State *L, const char *name, lua_CFunction close, const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  if (close) {
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
  }
  if (methods) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
}

void *lclass_box(lua_State *L, const char *name, size_t size, int nuv) {
  void *p = lua_newuserdatauv(L, size, nuv);
  memset(p, 0, size);
  luaL_setmetatable(L, name);
  return p;
}
