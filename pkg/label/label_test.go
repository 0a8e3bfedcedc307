package label

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
)

func ptr(s string) *string { return &s }

// fieldsOf are the fields a validation error names, or nil for no error.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := errkind.As(err)
	if !ok || e.Code != "validation_failed" {
		t.Fatalf("error %v, want validation_failed", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestFields(t *testing.T) {
	valid := Label{Name: "Refund", Color: "#1f93ff"}
	tests := []struct {
		name       string
		f          Fields
		want       Label
		wantFields []string
	}{
		{"nothing changes a valid label", Fields{}, valid, nil},
		{"name trimmed, colour lower-cased", Fields{Name: ptr("  VIP  "), Color: ptr("#ABCDEF")}, Label{Name: "VIP", Color: "#abcdef"}, nil},
		{"50 characters", Fields{Name: ptr(strings.Repeat("ü", 50))}, Label{Name: strings.Repeat("ü", 50), Color: "#1f93ff"}, nil},
		{"51 characters", Fields{Name: ptr(strings.Repeat("ü", 51))}, Label{}, []string{"name"}},
		{"empty name", Fields{Name: ptr("")}, Label{}, []string{"name"}},
		{"spaces only", Fields{Name: ptr(" \t ")}, Label{}, []string{"name"}},
		{"colour without #", Fields{Color: ptr("1f93ff")}, Label{}, []string{"color"}},
		{"short colour", Fields{Color: ptr("#fff")}, Label{}, []string{"color"}},
		{"long colour", Fields{Color: ptr("#1f93ff0")}, Label{}, []string{"color"}},
		{"not hex", Fields{Color: ptr("#gggggg")}, Label{}, []string{"color"}},
		{"a colour name", Fields{Color: ptr("red")}, Label{}, []string{"color"}},
		{"both wrong", Fields{Name: ptr(""), Color: ptr("")}, Label{}, []string{"name", "color"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := valid
			got := fieldsOf(t, tc.f.apply(&l))
			if !slices.Equal(got, tc.wantFields) {
				t.Fatalf("fields %q, want %q", got, tc.wantFields)
			}
			if tc.wantFields == nil && l != tc.want {
				t.Fatalf("label %+v, want %+v", l, tc.want)
			}
		})
	}
}

func TestDistinct(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	got, err := distinct([]uuid.UUID{a, b, a, a, b})
	if err != nil || !slices.Equal(got, []uuid.UUID{a, b}) {
		t.Fatalf("distinct: %v, %v", got, err)
	}
	if got, err := distinct(nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no ids: %v (nil %t), %v; want an empty, non-nil list", got, got == nil, err)
	}
	var many []uuid.UUID
	for range MaxPerConversation {
		many = append(many, uuid.New())
	}
	// Repeats do not count towards the limit.
	if got, err := distinct(append(many, many...)); err != nil || len(got) != MaxPerConversation {
		t.Fatalf("%d distinct ids given twice: %d, %v", MaxPerConversation, len(got), err)
	}
	if _, err := distinct(append(many, uuid.New())); !slices.Equal(fieldsOf(t, err), []string{"label_ids"}) {
		t.Fatalf("%d distinct ids: %v", MaxPerConversation+1, err)
	}
}

func TestReplace(t *testing.T) {
	refund := conversation.Label{ID: uuid.New(), Name: "Refund", Color: "#e5484d"}
	vip := conversation.Label{ID: uuid.New(), Name: "VIP", Color: "#ffb224"}
	unknown := uuid.New()
	then, now := time.Unix(1000, 0), time.Unix(2000, 0)
	tests := []struct {
		name        string
		current     []conversation.Label
		ids         []uuid.UUID
		found       []conversation.Label
		wantChanged bool
		wantFields  []string
	}{
		{"add to none", nil, []uuid.UUID{vip.ID, refund.ID}, []conversation.Label{refund, vip}, true, nil},
		{"the same set, in another order and repeated", []conversation.Label{refund, vip},
			[]uuid.UUID{vip.ID, refund.ID, vip.ID}, []conversation.Label{refund, vip}, false, nil},
		{"one less", []conversation.Label{refund, vip}, []uuid.UUID{vip.ID}, []conversation.Label{vip}, true, nil},
		{"swap one", []conversation.Label{refund}, []uuid.UUID{vip.ID}, []conversation.Label{vip}, true, nil},
		{"clear", []conversation.Label{refund}, []uuid.UUID{}, nil, true, nil},
		{"clear none", nil, []uuid.UUID{}, nil, false, nil},
		{"an unknown id, named once at its first place", []conversation.Label{refund},
			[]uuid.UUID{refund.ID, unknown, vip.ID, unknown}, []conversation.Label{refund, vip}, false, []string{"label_ids[1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := conversation.Conversation{Labels: tc.current, UpdatedAt: then}
			changed, err := Replace(&c, tc.ids, tc.found, now)
			if got := fieldsOf(t, err); !slices.Equal(got, tc.wantFields) {
				t.Fatalf("fields %q, want %q", got, tc.wantFields)
			}
			if changed != tc.wantChanged {
				t.Fatalf("changed %t, want %t", changed, tc.wantChanged)
			}
			want, at := tc.current, then
			if changed {
				want, at = tc.found, now
			}
			if !slices.Equal(c.Labels, want) || !c.UpdatedAt.Equal(at) {
				t.Fatalf("conversation labels %v at %v, want %v at %v", c.Labels, c.UpdatedAt, want, at)
			}
		})
	}
}
