/* The `token` subcommand: flags to grants, api_token_create, the token on stdout.
 * --api-key/--api-secret/--config are read as `serve` reads them, so both agree; the token is
 * signed with the --api-key pair, or else the first key of the file. */
#include "app/token_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/token.h"
#include "base/clock.h"
#include "base/err.h"

/* One grant name ("sip.admin", "video.roomCreate", "roomCreate", "all") into c. */
static int add_grant(struct api_claims *c, struct sb_slice name)
{
	struct {
		const char *name;
		bool *flag;
		bool sip;
	} grants[] = {
	    {"sip.admin", &c->sip.admin, true},
	    {"sip.call", &c->sip.call, true},
	    {"roomCreate", &c->video.room_create, false},
	    {"roomList", &c->video.room_list, false},
	    {"roomAdmin", &c->video.room_admin, false},
	    {"roomJoin", &c->video.room_join, false},
	    {"roomRecord", &c->video.room_record, false},
	    {"ingressAdmin", &c->video.ingress_admin, false},
	    {"canPublish", &c->video.can_publish, false},
	    {"canSubscribe", &c->video.can_subscribe, false},
	    {"canPublishData", &c->video.can_publish_data, false},
	    {"canUpdateOwnMetadata", &c->video.can_update_own_metadata, false},
	    {"hidden", &c->video.hidden, false},
	    {"agent", &c->video.agent, false},
	};
	if (sb_slice_eq_cstr(name, "all")) {
		c->sip.admin = c->sip.call = true;
		c->video.room_create = c->video.room_list = c->video.room_admin = true;
		c->has_sip = true;
		return 0;
	}
	if (sb_slice_starts_with_nocase(name, "video."))
		name = sb_slice(name.p + 6, name.len - 6);
	for (size_t i = 0; i < SB_ARRAY_LEN(grants); i++)
		if (sb_slice_eq_cstr(name, grants[i].name)) {
			*grants[i].flag = true;
			c->has_sip |= grants[i].sip;
			return 0;
		}
	return SB_ENOTFOUND;
}

static void token_usage(void)
{
	fputs("usage: switchboard token [--config FILE] [--api-key K --api-secret S]\n"
	      "                         [--grant LIST] [--room NAME] [--identity ID] [--ttl S]\n"
	      "  --grant LIST  comma-separated: sip.admin, sip.call, video.roomCreate,\n"
	      "                video.roomList, video.roomAdmin, video.roomJoin, ... or all\n"
	      "  --room NAME   video.room (what roomAdmin applies to)\n"
	      "  --ttl S       validity in seconds (default 600)\n",
	      stderr);
}

int sb_cmd_token(struct sb_config *cfg, int argc, char **argv)
{
	struct api_claims g;
	memset(&g, 0, sizeof(g));
	g.has_video = true; /* as the SDKs do: always a video grant, maybe empty */
	const char *identity = NULL;
	unsigned long ttl = 600;
	/* Flags of our own first; the rest (--api-key, --api-secret, --config) go to config. */
	char *rest[64];
	int nrest = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool ours = !strcmp(a, "--grant") || !strcmp(a, "--room") ||
			    !strcmp(a, "--identity") || !strcmp(a, "--ttl");
		if (!ours) {
			if (nrest + 2 > (int)SB_ARRAY_LEN(rest))
				goto usage;
			rest[nrest++] = argv[i];
			if (!strncmp(a, "--", 2) && !strchr(a, '=') && i + 1 < argc)
				rest[nrest++] = argv[++i];
			continue;
		}
		if (i + 1 >= argc)
			goto usage;
		const char *v = argv[++i];
		if (!strcmp(a, "--grant")) {
			struct sb_slice list = sb_slice_cstr(v);
			while (list.len) {
				ptrdiff_t comma = sb_slice_find(list, ',');
				size_t n = comma >= 0 ? (size_t)comma : list.len;
				struct sb_slice one = sb_slice_trim(sb_slice(list.p, n));
				if (one.len && add_grant(&g, one)) {
					fprintf(stderr, "switchboard token: unknown grant '%.*s'\n",
						SB_SLICE_ARG(one));
					return 2;
				}
				list = comma >= 0 ? sb_slice(list.p + n + 1, list.len - n - 1)
						  : SB_SLICE_NULL;
			}
		} else if (!strcmp(a, "--room")) {
			if (strlen(v) >= sizeof(g.video.room))
				goto usage;
			snprintf(g.video.room, sizeof(g.video.room), "%s", v);
		} else if (!strcmp(a, "--identity")) {
			identity = v;
		} else {
			char *end;
			errno = 0;
			ttl = strtoul(v, &end, 10);
			if (errno || *end || !ttl || ttl > 366ul * 86400)
				goto usage;
		}
	}
	char err[512];
	if (sb_config_args(cfg, nrest, rest, err, sizeof(err))) {
		fprintf(stderr, "switchboard token: %s\n", err);
		return 2;
	}
	struct api_token_opts o = {
	    .key = cfg->keys[cfg->key_primary].key,
	    .secret = cfg->keys[cfg->key_primary].secret,
	    .now = sb_clock_wall_s(),
	    .ttl_s = (uint32_t)ttl,
	    .identity = identity,
	    .grants = &g,
	};
	char *token = NULL;
	int r = api_token_create(&o, &token);
	if (r) {
		fprintf(stderr, "switchboard token: %s\n", sb_strerror(r));
		return 2;
	}
	printf("%s\n", token);
	free(token);
	return 0;
usage:
	token_usage();
	return 2;
}
