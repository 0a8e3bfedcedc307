package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

var (
	errUnsupportedMediaType = errkind.New(errkind.KindBadRequest, "unsupported_media_type", "Send the body as application/json.")
	errEmptyBody            = errkind.New(errkind.KindBadRequest, "invalid_json", "The request body is empty; send a JSON object.")
	errBodyTooLarge         = errkind.New(errkind.KindTooLarge, "body_too_large", "The request body is over the size limit.")
)

// bind decodes a JSON body strictly: the right content type, one JSON object, no unknown
// fields, every value of the declared type, and then checkBody's rules (no NUL character, no
// null where the field is not nullable, free-form values within their caps). Every failure is
// a 4xx naming the field.
func bind(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errUnsupportedMediaType
		}
	}
	if req.Body == nil || req.ContentLength == 0 {
		return errEmptyBody
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return decodeError(err)
	}
	return decodeBody(body, dst)
}

// decodeBody is bind's decoding of a body already read; dst is a pointer to the request type.
func decodeBody(body []byte, dst any) error {
	if len(body) == 0 {
		return errEmptyBody
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errkind.New(errkind.KindBadRequest, "invalid_json", "The body must hold exactly one JSON object.")
	}
	// The typed value cannot tell an explicit null from an absent field, so the body is read a
	// second time as plain JSON; it already decoded once, so this cannot fail.
	var v any
	gen := json.NewDecoder(bytes.NewReader(body))
	gen.UseNumber()
	if err := gen.Decode(&v); err != nil {
		return decodeError(err)
	}
	return checkBody(v, reflect.TypeOf(dst).Elem())
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &mbe), errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
		return errBodyTooLarge
	case errors.Is(err, io.EOF):
		return errEmptyBody
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return errkind.New(errkind.KindBadRequest, "invalid_json", "The body is not valid JSON: "+err.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		e := errkind.New(errkind.KindBadRequest, "invalid_type", fmt.Sprintf("%s: must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value))
		e.Fields = []errkind.Field{{Field: field, Message: fmt.Sprintf("must be %s", jsonKind(typ.Type.Kind().String()))}}
		return e
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := errkind.New(errkind.KindBadRequest, "unknown_field", fmt.Sprintf("%s: is not a field of this request", name))
		e.Fields = []errkind.Field{{Field: name, Message: "is not a field of this request"}}
		return e
	default:
		return errkind.New(errkind.KindBadRequest, "invalid_json", "The body could not be read: "+err.Error())
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int32", "int64", "uint", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}

// invalidParam is a 400 naming a query or path parameter.
func invalidParam(name, message string) error {
	e := errkind.New(errkind.KindBadRequest, "invalid_parameter", name+": "+message)
	e.Fields = []errkind.Field{{Field: name, Message: message}}
	return e
}

// pageParams reads limit and cursor.
func pageParams(c echo.Context) (page.Request, error) {
	p := page.Request{Limit: page.DefaultLimit, Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > page.MaxLimit {
			return p, invalidParam("limit", fmt.Sprintf("must be an integer from 1 to %d", page.MaxLimit))
		}
		p.Limit = n
	}
	if len(p.Cursor) > 512 {
		return p, errkind.ErrInvalidCursor
	}
	return p, nil
}

// enumParam reads a query parameter that must be one of values; "" gives def.
func enumParam(c echo.Context, name, def string, values ...string) (string, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	for _, ok := range values {
		if v == ok {
			return v, nil
		}
	}
	return "", invalidParam(name, "must be one of "+strings.Join(values, ", "))
}

// uuidParam reads an optional id from the query.
func uuidParam(c echo.Context, name string) (*uuid.UUID, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil, invalidParam(name, "must be an id")
	}
	return &id, nil
}

// timeParam reads an optional RFC 3339 instant from the query (a "+" of its offset encoded as
// %2B, as in any query).
func timeParam(c echo.Context, name string) (*time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, invalidParam(name, "must be an RFC 3339 instant, e.g. 2026-12-01T09:00:00Z")
	}
	return &t, nil
}

// pathID reads the {id} path parameter; a malformed id names nothing, so it is notFound.
func pathID(c echo.Context, notFound error) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, notFound
	}
	return id, nil
}

// nextCursor is "" → null in list responses.
func nextCursor(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// bindOptional is bind for a body the client may leave out entirely: no body leaves dst as it is.
func bindOptional(c echo.Context, dst any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	if err := bind(c, dst); err != nil && !errors.Is(err, errEmptyBody) {
		return err
	}
	return nil
}

// uuidField reads an id from a request body; a malformed one is a 422 naming the field.
func uuidField(field, v string) (uuid.UUID, error) {
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, errkind.Invalid(errkind.Field{Field: field, Message: "must be an id"})
	}
	return id, nil
}
