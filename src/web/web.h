/* The web console's files (web/ at the repository root), embedded in the binary at build time
 * by cmake/embed_web.cmake: a table of name -> bytes and content type. */
#ifndef SB_WEB_WEB_H
#define SB_WEB_WEB_H

#include <stddef.h>

#include "base/slice.h"

struct web_asset {
	const char *name;	  /* file name, "console.html" */
	const char *content_type; /* static, "text/html; charset=utf-8" ... */
	const unsigned char *data;
	size_t len;
};

/* The generated table (web_assets.c in the build directory). */
extern const struct web_asset web_assets[];
extern const size_t web_assets_n;

/* The file named name ("console.js"), or NULL. */
const struct web_asset *web_asset_find(struct sb_slice name);

#endif
