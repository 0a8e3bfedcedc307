package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/resource"
)

// TestJSONSerializerMatchesEncodingJSON holds the response serializer to the bytes echo's
// default serializer (encoding/json) writes, for the hot responses and for values where
// encoders tend to differ: HTML and line-separator escaping, invalid UTF-8, map key order,
// floats, time zones, nil slices and pointers, raw JSON.
func TestJSONSerializerMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 29, 8, 0, 0, 123456000, time.UTC)
	email, phone, cat, id := "maria@example.com", "+14155550142", "refund", "0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"
	conv := resource.Conversation{ID: id, Status: "closed",
		Contact:     resource.ConversationContact{ID: id, FirstName: "María", LastName: "O'Brien <b>", Email: &email, Phone: &phone},
		Assignee:    &resource.Assignee{ID: id, Name: "Ana & Ben", Email: "ana@example.com"},
		LastMessage: &resource.MessagePreview{ID: id, ChannelID: id, Direction: "incoming", Type: "text", Text: "order #1234 \u2028 never arrived 😀", CreatedAt: at},
		ClosingNote: &resource.ClosingNote{Category: &cat, ClosedAt: at, ClosedBy: resource.Actor{Kind: "system"}},
		CreatedAt:   at, UpdatedAt: at.In(time.FixedZone("x", -5*3600)), ClosedAt: &at}
	tests := []struct {
		name string
		v    any
	}{
		{"inbox page", resource.ConversationList{Data: []resource.Conversation{conv, {ID: id, Status: "open"}}, NextCursor: &email}},
		{"empty page", resource.ConversationList{Data: []resource.Conversation{}}},
		{"eligibility", resource.SendEligibility{ContactID: id, Channels: []resource.ChannelEligibility{{ChannelID: id, ChannelType: "whatsapp",
			Identifier: &phone, LastInboundAt: &at, Decision: resource.Decision{Decision: "template_required",
				ReasonCode: "window_closed_template_required", Reason: "The customer last wrote 30 hours ago; ...",
				WindowExpiresAt: &at, AllowedTags: []string{}, Quota: &resource.Quota{Limit: 5, Used: 2, ResetsAt: at}, RuleVersion: "2026-11-01"}}}}},
		{"problem", Problem{Type: "urn:switchboard:problem:validation_failed", Title: "Unprocessable Entity", Status: 422,
			Detail: "phone: must be <valid> & \"E.164\"", Code: "validation_failed"}},
		{"map", map[string]any{"b": 1.0, "a": 1e21, "c": 0.000001, "d": 123456789.125, "e": []any{nil, true, "x"},
			"f": map[string]any{"z": 1, "y": -0.0}, "<": ">"}},
		{"strings", []string{"bad \xff utf8", "\u2028\u2029\x00\x1f\t\n", `<script>&"'\`, "é 漢字 😀", ""}},
		{"nil slice and pointer", struct {
			A []string `json:"a"`
			B *string  `json:"b"`
			C []int    `json:"c,omitempty"`
		}{}},
		{"numbers", []any{float32(0.1), 1e-7, 1e20, -9007199254740993, uint8(255)}},
		{"raw", json.RawMessage(`{"x": 1,  "y":[1, 2]}`)},
	}
	e := echo.New()
	s := newJSONSerializer()
	// What encoding/json refuses is refused too, with nothing written, so the error handler
	// still answers 500.
	for _, bad := range []any{math.NaN(), math.Inf(1), make(chan int), map[string]any{"f": func() {}}} {
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		if err := s.Serialize(c, bad, ""); err == nil || rec.Body.Len() > 0 {
			t.Errorf("%T: err %v, wrote %q", bad, err, rec.Body.String())
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(tc.v); err != nil {
				t.Fatal(err)
			}
			check := func(indent string, want *bytes.Buffer) {
				t.Helper()
				rec := httptest.NewRecorder()
				c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
				if err := s.Serialize(c, tc.v, indent); err != nil {
					t.Fatal(err)
				}
				if got := rec.Body.String(); got != want.String() {
					t.Errorf("indent %q: got  %s\nwant %s", indent, got, want.String())
				}
				if got := rec.Header().Get(echo.HeaderContentLength); got != strconv.Itoa(want.Len()) {
					t.Errorf("indent %q: Content-Length %s, want %d", indent, got, want.Len())
				}
			}
			check("", &want)
			// ?pretty asks echo for an indented answer.
			var pretty bytes.Buffer
			enc := json.NewEncoder(&pretty)
			enc.SetIndent("", "  ")
			if err := enc.Encode(tc.v); err != nil {
				t.Fatal(err)
			}
			check("  ", &pretty)
		})
	}
}
