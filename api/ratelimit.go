package api

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/ratelimit"
)

// Rate limit headers (DESIGN §7): integers; Reset is the seconds until the budget is full
// again.
const (
	headerRateLimit     = "RateLimit-Limit"
	headerRateRemaining = "RateLimit-Remaining"
	headerRateReset     = "RateLimit-Reset"
)

// limits puts the budgets of pkg/ratelimit in front of the routes. A nil service (RATE_LIMITS
// off) passes everything and sends no headers.
type limits struct {
	svc *ratelimit.Service
}

// credential spends one request of the principal's budget and tells the client where it
// stands, on every answer (errors too, so it comes before the scope check). Over budget, the
// request is refused before the handler runs.
func (l limits) credential(next echo.HandlerFunc) echo.HandlerFunc {
	if l.svc == nil {
		return next
	}
	return func(c echo.Context) error {
		if err := spend(c, l.svc.Credential(c.Request().Context(), principal(c)), ratelimit.ErrCredential); err != nil {
			return err
		}
		return next(c)
	}
}

// address spends one request of the client address's budget: the routes without a credential
// (login, refresh) go through it.
func (l limits) address(next echo.HandlerFunc) echo.HandlerFunc {
	if l.svc == nil {
		return next
	}
	return func(c echo.Context) error {
		if err := spend(c, l.svc.Address(c.Request().Context(), clientAddr(c)), ratelimit.ErrAddress); err != nil {
			return err
		}
		return next(c)
	}
}

// unauthenticated goes around authentication: a request whose credential does not check out
// has no budget of its own, so it spends its address's, and guessing keys or tokens is held
// to that. Past it, the answer is 429 instead of 401.
func (l limits) unauthenticated(next echo.HandlerFunc) echo.HandlerFunc {
	if l.svc == nil {
		return next
	}
	return func(c echo.Context) error {
		err := next(c)
		if e, ok := errkind.As(err); !ok || e.Kind != errkind.KindUnauthenticated || c.Get(keyPrincipal) != nil {
			return err
		}
		if refused := spend(c, l.svc.Address(c.Request().Context(), clientAddr(c)), ratelimit.ErrAddress); refused != nil {
			return refused
		}
		return err
	}
}

// sends spends one send of the workspace's send budget, after the credential's: a script
// cannot flood providers however many keys it holds.
func (l limits) sends(next echo.HandlerFunc) echo.HandlerFunc {
	if l.svc == nil {
		return next
	}
	return func(c echo.Context) error {
		if r := l.svc.Send(c.Request().Context(), principal(c).WorkspaceID); !r.Allowed {
			return ratelimit.Refusal(ratelimit.ErrSend, r)
		}
		return next(c)
	}
}

// spend tells the client where a budget stands (the headers) and answers its refusal (why,
// with Retry-After) when the request was over it.
func spend(c echo.Context, r ratelimit.Result, why *errkind.Error) error {
	setRateHeaders(c, r)
	if !r.Allowed {
		return ratelimit.Refusal(why, r)
	}
	return nil
}

func setRateHeaders(c echo.Context, r ratelimit.Result) {
	h := c.Response().Header()
	h.Set(headerRateLimit, strconv.Itoa(r.Limit))
	h.Set(headerRateRemaining, strconv.Itoa(r.Remaining))
	h.Set(headerRateReset, strconv.Itoa(ratelimit.Seconds(r.ResetAfter)))
}
