/* The bridge from what happens in rooms to webhooks: a room observer that turns room and
 * participant events, hold/resume and DTMF into LiveKit / x-switchboard webhook events. */
#ifndef SB_APP_EVENTS_H
#define SB_APP_EVENTS_H

struct api_webhook;
struct room_service;

/* Observe rs and post its events to n (both outlive the attachment; control loop only).
 * Participants switchboard adds itself (the echo of a dev call) are not reported. */
void sb_events_attach(struct room_service *rs, struct api_webhook *n);
/* Also post the call manager's own events (transfer outcomes) to n. */
struct call_mgr;
void sb_events_attach_calls(struct call_mgr *m, struct api_webhook *n);
void sb_events_detach_calls(struct call_mgr *m);
/* Stop observing: nothing is posted to n after this. */
void sb_events_detach(struct room_service *rs);

#endif
