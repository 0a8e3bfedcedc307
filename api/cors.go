package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/switchboard/switchboard/pkg/config"
)

// CORS lets a browser page on an allowed origin call the API (DESIGN §7). What a page may
// send and read is fixed here; which origins are allowed is configuration.
var (
	corsMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	// corsAllowHeaders are the request headers a page may set beyond the CORS-safelisted
	// ones: credentials, JSON bodies, safe retries, stream resumption, and its own request id.
	corsAllowHeaders = []string{"Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", headerRequestID,
		// media downloads: ranges and conditional requests (a bare Range is safelisted, not all)
		"Range", "If-Range", "If-None-Match", "If-Match", "If-Modified-Since"}
	// corsExposeHeaders are the response headers a page may read beyond the safelisted ones.
	// The RateLimit names cover both drafts of the IETF header (RateLimit and
	// RateLimit-Policy; RateLimit-Limit, -Remaining and -Reset), so limits added later are
	// readable without a change here.
	corsExposeHeaders = []string{headerRequestID, "Idempotent-Replayed", "Location", "Retry-After", "WWW-Authenticate",
		"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
		// media downloads: the file's name, its version, and which part of it came
		"Content-Disposition", "ETag", "Content-Range", "Accept-Ranges"}
)

// corsMaxAge is how long a browser may reuse a preflight's answer, in seconds: Chromium's
// cap, so a changed configuration reaches every browser within two hours.
const corsMaxAge = 7200

// cors answers preflights from the allowed origins and marks their actual responses
// readable; nil when no origin is allowed, so the API sends no CORS header at all. It must
// run before anything that can answer with an error (body limit, authentication, routing's
// 404 and 405), which then carries the headers too: they are set before the handler runs.
//
// echo's middleware does the protocol. Origins are matched by config.Origin, not by echo's
// patterns, whose "*" also matches across the port into the host. A preflight from another
// origin is answered 204 without Access-Control-Allow-Origin, which the browser reads as a
// refusal. Credentials are bearer tokens set by the page, never cookies, so
// Access-Control-Allow-Credentials is never sent.
func cors(allowed []config.Origin) echo.MiddlewareFunc {
	if len(allowed) == 0 {
		return nil
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		// An OPTIONS request without Origin is not a preflight: it gets the router's answer
		// (204 with Allow, or 404) as it would without CORS.
		Skipper: func(c echo.Context) bool {
			return c.Request().Method == http.MethodOptions && c.Request().Header.Get(echo.HeaderOrigin) == ""
		},
		AllowOriginFunc: func(origin string) (bool, error) {
			return slices.ContainsFunc(allowed, func(o config.Origin) bool { return o.Matches(origin) }), nil
		},
		AllowMethods:  corsMethods,
		AllowHeaders:  corsAllowHeaders,
		ExposeHeaders: corsExposeHeaders,
		MaxAge:        corsMaxAge,
	})
}
