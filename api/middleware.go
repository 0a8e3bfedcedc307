package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/errkind"
)

const (
	headerRequestID = "X-Request-Id"
	keyRequestID    = "request_id"
	keyPrincipal    = "principal"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// withRequestID echoes a well-formed incoming X-Request-Id or makes one, and puts it on the
// response, the echo context and the request context (for logs).
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if !validRequestID.MatchString(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		c.Set(keyRequestID, id)
		c.Response().Header().Set(headerRequestID, id)
		ctx := context.WithValue(c.Request().Context(), ctxRequestID{}, id)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

type ctxRequestID struct{}

// validQuery refuses a query string that cannot be parsed: Go would silently drop the broken
// pairs, and a filter the client thinks it sent would be ignored. It also refuses, for every
// route at once, a parameter holding the NUL character (%00): PostgreSQL cannot take it in
// text, so q=%00 used to answer 500.
func validQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := url.ParseQuery(c.Request().URL.RawQuery)
		if err != nil {
			return errkind.New(errkind.KindBadRequest, "invalid_query", "The query string is malformed: "+err.Error())
		}
		var bad errkind.Fields
		for _, name := range slices.Sorted(maps.Keys(q)) {
			switch {
			case strings.IndexByte(name, 0) >= 0:
				bad.Add(strings.ReplaceAll(name, "\x00", "\uFFFD"), "the parameter's name "+nulMessage)
			case slices.ContainsFunc(q[name], func(v string) bool { return strings.IndexByte(v, 0) >= 0 }):
				bad.Add(name, nulMessage)
			}
		}
		if len(bad) > 0 {
			e := errkind.New(errkind.KindBadRequest, "invalid_character", bad[0].Field+": "+bad[0].Message)
			e.Fields = bad
			return e
		}
		return next(c)
	}
}

var errRequestTimeout = errkind.New(errkind.KindTimeout, "request_timeout",
	"The request body did not arrive within the server's read timeout.")

// bodyDeadline answers 408 when the request body stopped arriving at the server's read
// deadline (http.Server.ReadTimeout): the handler only sees a failed read, which it would
// report as a malformed body. The server closes the connection after the answer.
func bodyDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		b := &deadlineBody{ReadCloser: req.Body}
		req.Body = b
		if err := next(c); err != nil {
			if b.expired {
				// The write deadline (HTTP_WRITE_TIMEOUT) may pass at about the same moment;
				// the short answer gets a moment of its own.
				_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(timeoutAnswerWrite))
				return errRequestTimeout
			}
			return err
		}
		return nil
	}
}

// timeoutAnswerWrite is how long the 408 answer to a cut request may take to write.
const timeoutAnswerWrite = time.Second

// deadlineBody notes whether a read failed at the connection's read deadline.
type deadlineBody struct {
	io.ReadCloser
	expired bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.expired = true
	}
	return n, err
}

func requestID(c echo.Context) string {
	id, _ := c.Get(keyRequestID).(string)
	return id
}

// accessLog writes one JSON line per request.
//
// It hands the record to the handler itself, as slog's documentation shows for wrappers:
// Logger.LogAttrs would also walk the stack for the caller's program counter (runtime.Callers,
// a sixth of the line's cost), which only a handler with AddSource uses and ours has not.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	h := log.Handler()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				// Let the error handler write the answer now, so the status is known.
				c.Error(err)
			}
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			ctx := c.Request().Context()
			if !h.Enabled(ctx, level) {
				return nil
			}
			r := slog.NewRecord(time.Now(), level, "request", 0)
			r.AddAttrs(
				slog.String("request_id", requestID(c)),
				slog.String("method", c.Request().Method),
				slog.String("route", c.Path()),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			)
			if p, ok := c.Get(keyPrincipal).(auth.Principal); ok {
				r.AddAttrs(slog.String("workspace_id", p.WorkspaceID.String()), slog.String("actor", p.Kind))
			}
			_ = h.Handle(ctx, r)
			return nil
		}
	}
}

// authenticator is what the auth middleware needs.
type authenticator interface {
	Authenticate(ctx context.Context, bearer string) (auth.Principal, error)
}

// authenticate requires a bearer token (JWT or API key) and stores the principal.
func authenticate(a authenticator) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, token, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				return errkind.ErrUnauthenticated
			}
			p, err := a.Authenticate(c.Request().Context(), strings.TrimSpace(token))
			if err != nil {
				return err
			}
			c.Set(keyPrincipal, p)
			c.SetRequest(c.Request().WithContext(audit.WithActor(c.Request().Context(), actorOf(p))))
			return next(c)
		}
	}
}

// principal returns who the request acts as; routes behind authenticate always have one.
func principal(c echo.Context) auth.Principal {
	p, _ := c.Get(keyPrincipal).(auth.Principal)
	return p
}

// require demands a scope: a key must hold it, a user's role must grant it.
func require(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !principal(c).Has(scope) {
				return errkind.ErrForbidden.Detailf("This needs the %q scope (owners and managers hold every scope).", scope)
			}
			return next(c)
		}
	}
}
