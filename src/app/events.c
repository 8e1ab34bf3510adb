/* Room observer -> webhooks: snapshots from room/ become api/ builder values and are posted.
 * Owns no state beyond the notifier pointer handed to the room service as its argument. */
#include "app/events.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/webhook.h"
#include "base/err.h"
#include "base/log.h"
#include "call/call.h"
#include "room/room.h"

static void room_of(const struct room_info *ri, struct api_webhook_room *out)
{
	*out = (struct api_webhook_room){
	    .sid = ri->sid,
	    .name = ri->name,
	    .metadata = ri->metadata,
	    .empty_timeout = ri->empty_timeout_s,
	    .departure_timeout = ri->departure_timeout_s,
	    .max_participants = ri->max_participants,
	    .creation_time_ms = ri->created_unix_ms,
	    .num_participants = ri->participants,
	    .num_publishers = ri->publishers,
	};
}

static enum api_webhook_part_kind kind_of(enum room_part_kind k)
{
	switch (k) {
	case ROOM_PART_SIP:
		return API_WEBHOOK_KIND_SIP;
	case ROOM_PART_AGENT:
		return API_WEBHOOK_KIND_AGENT;
	default:
		return API_WEBHOOK_KIND_STANDARD;
	}
}

/* attrs: room/ and api/ attributes are the same two strings; copied into the caller's array. */
static void part_of(const struct room_part_info *pi, struct api_webhook_participant *out,
		    struct api_webhook_attr attrs[ROOM_ATTRS_MAX])
{
	size_t n = pi->n_attrs < ROOM_ATTRS_MAX ? pi->n_attrs : ROOM_ATTRS_MAX;
	for (size_t i = 0; i < n; i++)
		attrs[i] = (struct api_webhook_attr){pi->attrs[i].key, pi->attrs[i].value};
	*out = (struct api_webhook_participant){
	    .sid = pi->sid,
	    .identity = pi->identity,
	    .name = pi->name,
	    .metadata = pi->metadata,
	    .state = pi->state == ROOM_PART_LEAVING  ? API_WEBHOOK_DISCONNECTED
		     : pi->state == ROOM_PART_ACTIVE ? API_WEBHOOK_ACTIVE
						     : API_WEBHOOK_JOINING,
	    .kind = kind_of(pi->kind),
	    .joined_at_ms = pi->joined_ms,
	    .version = pi->version,
	    .is_publisher = pi->media != ROOM_MEDIA_NONE,
	    .attrs = attrs,
	    .n_attrs = n,
	};
}

static void post(struct api_webhook *n, json_t *ev, const char *what, const char *room)
{
	int err = api_webhook_post(n, ev);
	if (err && err != SB_ECLOSED)
		SB_WARN("events", "room %s: %s webhook not queued: %s", room, what,
			sb_strerror(err));
}

static void on_room_started(void *arg, const struct room_info *ri)
{
	struct api_webhook_room r;
	room_of(ri, &r);
	post(arg, api_webhook_event(API_WEBHOOK_ROOM_STARTED, &r, NULL), API_WEBHOOK_ROOM_STARTED,
	     ri->name);
}

static void on_room_finished(void *arg, const struct room_info *ri)
{
	struct api_webhook_room r;
	room_of(ri, &r);
	post(arg, api_webhook_event(API_WEBHOOK_ROOM_FINISHED, &r, NULL), API_WEBHOOK_ROOM_FINISHED,
	     ri->name);
}

static void part_event(void *arg, const char *name, const struct room_info *ri,
		       const struct room_part_info *pi)
{
	if (pi->kind == ROOM_PART_INTERNAL)
		return;
	struct api_webhook_room r;
	struct api_webhook_participant p;
	struct api_webhook_attr attrs[ROOM_ATTRS_MAX];
	room_of(ri, &r);
	part_of(pi, &p, attrs);
	post(arg, api_webhook_event(name, &r, &p), name, ri->name);
}

static void on_joined(void *arg, const struct room_info *ri, const struct room_part_info *pi)
{
	part_event(arg, API_WEBHOOK_PARTICIPANT_JOINED, ri, pi);
}

static void on_left(void *arg, const struct room_info *ri, const struct room_part_info *pi)
{
	part_event(arg, API_WEBHOOK_PARTICIPANT_LEFT, ri, pi);
}

static void on_dtmf(void *arg, const struct room_info *ri, const struct room_part_info *pi,
		    char digit, uint32_t duration_ms)
{
	if (pi->kind == ROOM_PART_INTERNAL)
		return;
	struct api_webhook_room r;
	struct api_webhook_participant p;
	struct api_webhook_attr attrs[ROOM_ATTRS_MAX];
	room_of(ri, &r);
	part_of(pi, &p, attrs);
	json_t *ev = api_webhook_dtmf_event(&r, &p, digit, duration_ms);
	if (!ev) /* also a digit outside 0-9 * # A-D: nothing to report */
		return;
	post(arg, ev, API_WEBHOOK_DTMF, ri->name);
}

static void on_hold(void *arg, const struct room_info *ri, const struct room_part_info *pi,
		    bool held, bool by_remote)
{
	if (pi->kind == ROOM_PART_INTERNAL)
		return;
	struct api_webhook_room r;
	struct api_webhook_participant p;
	struct api_webhook_attr attrs[ROOM_ATTRS_MAX];
	room_of(ri, &r);
	part_of(pi, &p, attrs);
	post(arg, api_webhook_hold_event(&r, &p, held, by_remote),
	     held ? API_WEBHOOK_HOLD : API_WEBHOOK_RESUME, ri->name);
}

static const struct room_observer observer = {
    .room_started = on_room_started,
    .room_finished = on_room_finished,
    .participant_joined = on_joined,
    .participant_left = on_left,
    .dtmf = on_dtmf,
    .hold = on_hold,
};

static void on_transfer(void *arg, const struct room_info *ri, const struct room_part_info *pi,
			const struct call_transfer_result *t)
{
	struct api_webhook_room r;
	struct api_webhook_participant p;
	struct api_webhook_attr attrs[ROOM_ATTRS_MAX];
	room_of(ri, &r);
	part_of(pi, &p, attrs);
	struct api_webhook_transfer wt = {
	    .transfer_to = t->target, .sip_status = t->sip_status, .reason = t->reason};
	post(arg, api_webhook_transfer_event(&r, &p, &wt), API_WEBHOOK_TRANSFER, ri->name);
}

static const struct call_observer call_observer = {.transfer = on_transfer};

void sb_events_attach_calls(struct call_mgr *m, struct api_webhook *n)
{
	call_mgr_set_observer(m, &call_observer, n);
}

void sb_events_detach_calls(struct call_mgr *m)
{
	call_mgr_set_observer(m, NULL, NULL);
}

void sb_events_attach(struct room_service *rs, struct api_webhook *n)
{
	room_service_set_observer(rs, &observer, n);
}

void sb_events_detach(struct room_service *rs)
{
	room_service_set_observer(rs, NULL, NULL);
}
