/* mote-lua: the Lua runtime. Boot a Lua state, snapshot, then (in each clone) load /fn/handler.lua and serve.
 */
#include <lua.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "channel.h"
#include "glue.h"

int main(void)
{
	/* The base snapshot holds this state: standard libraries opened, no user code yet. */
	lua_State *L = glue_new_state();
	if (!L) {
		fprintf(stderr, "%s: cannot create a Lua state (out of memory)\n", GLUE_NAME);
		return 1;
	}
	if (boot_snapshot(GLUE_NAME) < 0)
		return 2;
	struct channel ch;
	if (channel_open(&ch, GLUE_NAME) < 0)
		return 2;
	char why[CHANNEL_TEXT_MAX];
	if (boot_enter_function(BOOT_FN_DIR, BOOT_ENVIRON_FILE, why, sizeof(why)) < 0 ||
	    glue_load_handler(L, BOOT_FN_DIR, why, sizeof(why)) < 0)
		return channel_fail_init(&ch, why) < 0 ? 1 : 0;
	int r = channel_send_text(&ch, MOTE_MSG_READY, GLUE_NAME " " GLUE_VERSION " (" LUA_RELEASE ")");
	if (r < 0) {
		fprintf(stderr, "%s: %s: sending READY: %s\n", GLUE_NAME, CHANNEL_DEVICE, strerror(-r));
		return 1;
	}
	return channel_serve(&ch, glue_handle, L) < 0 ? 1 : 0;
}
