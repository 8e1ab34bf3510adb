/* Lookup in the embedded web console's files; the table itself is generated from web/ (see
 * web.h). */
#include "web/web.h"

const struct web_asset *web_asset_find(struct sb_slice name)
{
	for (size_t i = 0; i < web_assets_n; i++)
		if (sb_slice_eq_cstr(name, web_assets[i].name))
			return &web_assets[i];
	return NULL;
}
