package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/resource"
)

// Problem is an RFC 9457 problem details object. Members beyond the standard five carry the
// stable code, the offending fields and, for some errors, more context (existing_id, decision).
type Problem struct {
	Type      string       `json:"type" example:"urn:switchboard:problem:validation_failed"`
	Title     string       `json:"title" example:"Unprocessable Entity"`
	Status    int          `json:"status" example:"422"`
	Detail    string       `json:"detail" example:"email: must be a valid email address"`
	Code      string       `json:"code" example:"validation_failed"`
	RequestID string       `json:"request_id,omitempty" extensions:"x-optional" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	Errors    []FieldError `json:"errors,omitempty" extensions:"x-optional"`
	// ExistingID names what already holds the value: the contact with the email or phone
	// (contact_exists), the contact with the identifier (identity_exists), the template with
	// the name and language (template_exists).
	ExistingID string `json:"existing_id,omitempty" extensions:"x-optional" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	// Decision is the rule table's answer, on a refused send.
	Decision *resource.Decision `json:"decision,omitempty" extensions:"x-optional"`
} // @name Problem

// FieldError names one offending input field.
type FieldError struct {
	Field   string `json:"field" example:"email"`
	Message string `json:"message" example:"must be a valid email address"`
} // @name FieldError

const problemContentType = "application/problem+json"

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[errkind.Kind]int{
	errkind.KindInvalid:         http.StatusUnprocessableEntity,
	errkind.KindBadRequest:      http.StatusBadRequest,
	errkind.KindNotFound:        http.StatusNotFound,
	errkind.KindConflict:        http.StatusConflict,
	errkind.KindForbidden:       http.StatusForbidden,
	errkind.KindUnauthenticated: http.StatusUnauthorized,
	errkind.KindRefused:         http.StatusUnprocessableEntity,
	errkind.KindTooLarge:        http.StatusRequestEntityTooLarge,
	errkind.KindRateLimited:     http.StatusTooManyRequests,
	errkind.KindUnavailable:     http.StatusServiceUnavailable,
	errkind.KindTimeout:         http.StatusRequestTimeout,
}

// echoCodes names echo's own errors (routing, body limit) with stable codes.
var echoCodes = map[int]string{
	http.StatusNotFound:              "route_not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthenticated",
	http.StatusForbidden:             "forbidden",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
	// GET /v1/media/{id} with a Range outside the file (http.ServeContent's answer).
	http.StatusRequestedRangeNotSatisfiable: "range_not_satisfiable",
}

// errorHandler is echo's HTTPErrorHandler: the only place that turns an error into a status
// (problemOf), for a whole answer.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := problemOf(err, c, log)
		if status == http.StatusUnauthorized {
			v := `Bearer realm="switchboard"`
			if body["code"] != "unauthenticated" {
				v += `, error="invalid_token"`
			}
			c.Response().Header().Set("WWW-Authenticate", v)
		}
		b, mErr := json.Marshal(body)
		if mErr != nil {
			b = []byte(`{"type":"urn:switchboard:problem:internal_error","title":"Internal Server Error","status":500,"detail":"error encoding failed","code":"internal_error"}`)
			status = http.StatusInternalServerError
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.Blob(status, problemContentType, b)
	}
}

// problemOf is err as a problem's status and body, by the one kind → status table: for the
// answer (errorHandler) and for each item of a bulk answer. A 500 is logged with its chain and
// shows nothing of it.
func problemOf(err error, c echo.Context, log *slog.Logger) (int, map[string]any) {
	body := map[string]any{}
	var status int
	var code, detail string
	var he *echo.HTTPError
	if e, ok := errkind.As(err); ok {
		status = statusOf[e.Kind]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		code, detail = e.Code, e.Detail
		if e.RetryAfter > 0 {
			// Whole seconds, rounded up, so a client that waits that long is not refused again.
			c.Response().Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
		}
		for k, v := range e.Extra {
			body[k] = v
		}
		if len(e.Fields) > 0 {
			fe := make([]FieldError, len(e.Fields))
			for i, f := range e.Fields {
				fe[i] = FieldError{f.Field, f.Message}
			}
			body["errors"] = fe
		}
	} else if errors.As(err, &he) {
		status = he.Code
		code = echoCodes[status]
		if code == "" {
			code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		}
		detail = http.StatusText(status)
		if m, ok := he.Message.(string); ok && m != "" {
			detail = m
		}
		if status == http.StatusNotFound {
			detail = "No route matches " + c.Request().Method + " " + c.Request().URL.Path + "."
		}
	} else {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		log.ErrorContext(c.Request().Context(), "request failed", "error", err.Error(),
			"request_id", requestID(c), "method", c.Request().Method, "path", c.Path())
		if code == "" {
			code = "internal_error"
		}
		// The chain may hold SQL or internals; the client gets the request id to quote.
		detail = "An unexpected error occurred; quote the request id when reporting it."
	}
	body["type"] = "urn:switchboard:problem:" + code
	body["title"] = http.StatusText(status)
	body["status"] = status
	body["detail"] = detail
	body["code"] = code
	if id := requestID(c); id != "" {
		body["request_id"] = id
	}
	return status, body
}
