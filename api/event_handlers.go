package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
)

type eventHandler struct {
	events    *event.Service
	auth      *auth.Service
	heartbeat time.Duration
	// recheck is how often a stream checks that its credential is still live.
	recheck time.Duration
	// writeTimeout bounds each write to a stream; 0: unbounded.
	writeTimeout time.Duration
	closing      <-chan struct{}
	log          *slog.Logger
}

type eventCursor struct {
	After int64 `json:"a"`
}

// eventFilter reads types and conversation_id, and keeps contact events from a caller that may
// not read contacts.
func eventFilter(c echo.Context) (event.Filter, error) {
	var f event.Filter
	var err error
	if f.Types, err = event.ParseTypes("types", c.QueryParam("types")); err != nil {
		return f, err
	}
	if f.ConversationID, err = uuidParam(c, "conversation_id"); err != nil {
		return f, err
	}
	if !principal(c).Has(auth.ScopeContactsRead) {
		if len(f.Types) == 0 {
			f.Types = slices.Clone(event.Types)
		}
		f.Types = slices.DeleteFunc(f.Types, func(t string) bool { return strings.HasPrefix(t, "contact.") })
		if len(f.Types) == 0 {
			return f, errkind.ErrForbidden.Detailf(`contact events need the %q scope.`, auth.ScopeContactsRead)
		}
	}
	return f, nil
}

func eventIDParam(name, v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, invalidParam(name, "must be an event id (a non-negative integer)")
	}
	return id, nil
}

// list godoc
// @Summary     Past events
// @ID          listEvents
// @Description The workspace's events oldest first, for polling clients: pass the id of the last event you processed as `after` (or `next_cursor` back as `cursor`). Events are kept for EVENT_RETENTION (default 7 days). `types` is a comma-separated list of event types; contact events need the contacts:read scope.
// @Tags        events
// @Produce     json
// @Security    BearerAuth
// @Param       after           query integer  false "Only events after this event id" minimum(0) format(int64)
// @Param       types           query []string false "Event types, comma-separated" collectionFormat(csv)
// @Param       conversation_id query string false "Only events of this conversation"
// @Param       limit           query int    false "Page size (1-100)" default(25)
// @Param       cursor          query string false "Cursor from the previous page"
// @Success     200 {object} resource.EventList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/events [get]
func (h *eventHandler) list(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f, err := eventFilter(c)
	if err != nil {
		return err
	}
	var after int64
	if v := c.QueryParam("after"); v != "" {
		if after, err = eventIDParam("after", v); err != nil {
			return err
		}
	}
	if p.Cursor != "" {
		var cur eventCursor
		if err := page.Decode(p.Cursor, &cur); err != nil || cur.After <= 0 {
			return errkind.ErrInvalidCursor
		}
		after = max(after, cur.After)
	}
	evs, err := h.events.After(c.Request().Context(), principal(c).WorkspaceID, after, f, p.Limit+1)
	if err != nil {
		return err
	}
	out := resource.EventList{Data: make([]resource.Event, 0, len(evs))}
	if len(evs) > p.Limit {
		evs = evs[:p.Limit]
		out.NextCursor = nextCursor(page.Encode(eventCursor{After: evs[len(evs)-1].ID}))
	}
	for _, e := range evs {
		if e, err = eventFor(principal(c), e); err != nil {
			return err
		}
		out.Data = append(out.Data, resource.ToEvent(e))
	}
	return c.JSON(http.StatusOK, out)
}

// streamToken godoc
// @Summary     A token for the event stream
// @ID          createStreamToken
// @Description A short-lived token (2 minutes) that opens GET /v1/events/stream as the caller when passed as `?token=`, for the browser's EventSource, which cannot send an Authorization header. It opens the stream and nothing else. It stops working at once when the key that minted it is revoked or the session ends (logout), and so do the streams it opened, within seconds (EVENT_STREAM_RECHECK).
// @Tags        events
// @Produce     json
// @Security    BearerAuth
// @Success     201 {object} resource.StreamToken
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/events/stream-token [post]
func (h *eventHandler) streamToken(c echo.Context) error {
	tok, exp, err := h.auth.StreamToken(principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resource.StreamToken{Token: tok, ExpiresAt: exp})
}

// streamAuth authenticates the stream: a bearer header as everywhere, or ?token= holding a
// stream token (never an access token or API key, which must not appear in URLs).
func streamAuth(a *auth.Service) echo.MiddlewareFunc {
	bearer := authenticate(a)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withBearer := bearer(next)
		return func(c echo.Context) error {
			tok := c.QueryParam("token")
			if tok == "" || c.Request().Header.Get(echo.HeaderAuthorization) != "" {
				return withBearer(c)
			}
			p, err := a.AuthenticateStream(c.Request().Context(), tok)
			if err != nil {
				return err
			}
			c.Set(keyPrincipal, p)
			return next(c)
		}
	}
}

// stream godoc
// @Summary     Live event stream (Server-Sent Events)
// @ID          streamEvents
// @Description Server-Sent Events of the workspace: each event has `id:` (the event id), `event:` (its type) and one `data:` line holding the Event as JSON. Authenticate with the Authorization header, or with `?token=` from POST /v1/events/stream-token (EventSource). Filter with `types` (comma-separated) and `conversation_id`. To resume, send `Last-Event-ID` (EventSource does so itself) or `last_event_id`: the events after it that are still kept (EVENT_RETENTION) are replayed, then live ones follow; without it the stream starts with the next event. A `: connected` comment opens the stream and `: heartbeat` comments keep idle connections open. Events reach streams on every API process. The stream ends within seconds (EVENT_STREAM_RECHECK) when its API key is revoked or its session ends, and when the caller's scopes change (reconnect to go on).
// @Tags        events
// @Produce     text/event-stream
// @Security    BearerAuth
// @Param       types           query  []string false "Event types, comma-separated" collectionFormat(csv)
// @Param       conversation_id query  string   false "Only events of this conversation"
// @Param       last_event_id   query  integer  false "Resume after this event id (as the Last-Event-ID header, which wins when both are given)" minimum(0) format(int64)
// @Param       token           query  string   false "Stream token (instead of the Authorization header)"
// @Param       Last-Event-ID   header integer  false "Resume after this event id" minimum(0) format(int64)
// @Success     200 {string} string "text/event-stream"
// @Failure     400 {object} Problem "invalid_parameter"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/events/stream [get]
func (h *eventHandler) stream(c echo.Context) error {
	f, err := eventFilter(c)
	if err != nil {
		return err
	}
	p := principal(c)
	ws := p.WorkspaceID
	// The header (EventSource's own resumption) wins over the query parameter; each is an
	// event id wherever it is given, so a malformed one is refused even when the other wins.
	var cursor int64
	resume := ""
	for _, in := range []struct{ name, v string }{
		{"last_event_id", c.QueryParam("last_event_id")},
		{"Last-Event-ID", c.Request().Header.Get("Last-Event-ID")},
	} {
		if in.v == "" {
			continue
		}
		if cursor, err = eventIDParam(in.name, strings.TrimSpace(in.v)); err != nil {
			return err
		}
		resume = in.v
	}
	ctx := c.Request().Context()
	// Subscribe before reading the start, so nothing committed in between is missed.
	sub := h.events.Hub.Subscribe(ws)
	defer sub.Close()
	if resume == "" {
		if cursor, err = h.events.Last(ctx, ws); err != nil {
			return err
		}
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	// The server's write timeout (HTTP_WRITE_TIMEOUT) would cut a stream that long: a stream
	// bounds each write by it instead, so a client that stops reading is cut and one that
	// listens for hours is not. (net/http lifts the read deadline itself once a body-less
	// request is read.) An error means a writer without deadlines, which then has none to lift.
	send := func(frames string) bool {
		var deadline time.Time
		if h.writeTimeout > 0 {
			deadline = time.Now().Add(h.writeTimeout)
		}
		_ = rc.SetWriteDeadline(deadline)
		if _, err := io.WriteString(w, frames); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if !send("retry: 3000\n: connected\n\n") {
		return nil
	}
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	recheck := time.NewTicker(h.recheck)
	defer recheck.Stop()
	// revoked reports whether the stream must end: its key was revoked or its session ended
	// (on whichever process did it), or its scopes changed, which would change what it may
	// carry; the client's reconnection then gets 401, or the stream its scopes now allow. A
	// check that fails (the database away) ends nothing: every stream of the process would
	// reconnect and replay at once. The next tick checks again.
	revoked := func() bool {
		now, err := h.auth.Recheck(ctx, p)
		if errors.Is(err, auth.ErrInvalidToken) {
			return true
		}
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("event stream: cannot recheck its credential; keeping it open", "error", err.Error())
			}
			return false
		}
		return !slices.Equal(now.Scopes, p.Scopes)
	}
	var frames strings.Builder
	for {
		// Drain everything after the cursor; the table is the source of truth. A long replay
		// checks its credential on the same ticks as an idle stream.
		for {
			select {
			case <-recheck.C:
				if revoked() {
					return nil
				}
			default:
			}
			evs, err := h.events.After(ctx, ws, cursor, f, 200)
			if err != nil {
				if errors.Is(err, ctx.Err()) || ctx.Err() != nil {
					return nil
				}
				return err
			}
			frames.Reset()
			for _, e := range evs {
				e, err := eventFor(p, e)
				if err != nil {
					return err
				}
				b, err := resource.EventBody(e)
				if err != nil {
					return err
				}
				fmt.Fprintf(&frames, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, b)
				cursor = e.ID
			}
			if frames.Len() > 0 && !send(frames.String()) {
				return nil
			}
			if len(evs) < 200 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.closing:
			return nil
		case <-sub.C:
		case <-beat.C:
			if !send(": heartbeat\n\n") {
				return nil
			}
		case <-recheck.C:
			if revoked() {
				return nil
			}
		}
	}
}
