package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/store/storetest"
)

// TestConnectionTypes checks the scan and argument plans the store registers on its
// connections (registerTypes) and its session settings, against PostgreSQL.
func TestConnectionTypes(t *testing.T) {
	st := storetest.New(t, time.Now)
	ctx := context.Background()
	id, other := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"uuid argument and scan", func(t *testing.T) {
			var got uuid.UUID
			var text string
			if err := st.Pool.QueryRow(ctx, `SELECT $1::uuid, $1::uuid::text`, id).Scan(&got, &text); err != nil {
				t.Fatal(err)
			}
			if got != id || text != id.String() {
				t.Errorf("got %s and %q, want %s", got, text, id)
			}
		}},
		{"uuid array", func(t *testing.T) {
			var got []uuid.UUID
			if err := st.Pool.QueryRow(ctx, `SELECT array_agg(m.id ORDER BY m.n) FROM unnest($1::uuid[]) WITH ORDINALITY AS m(id, n)`,
				[]uuid.UUID{id, other}).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []uuid.UUID{id, other}) {
				t.Errorf("got %v", got)
			}
		}},
		{"nullable uuid", func(t *testing.T) {
			var null, set *uuid.UUID
			var arg *uuid.UUID
			if err := st.Pool.QueryRow(ctx, `SELECT $1::uuid, $2::uuid`, arg, &id).Scan(&null, &set); err != nil {
				t.Fatal(err)
			}
			if null != nil || set == nil || *set != id {
				t.Errorf("got %v and %v", null, set)
			}
		}},
		{"NULL into uuid.UUID is an error", func(t *testing.T) {
			var got uuid.UUID
			if err := st.Pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&got); err == nil {
				t.Error("scanned NULL into uuid.UUID without an error")
			}
		}},
		{"nullable text and timestamptz", func(t *testing.T) {
			at := time.Date(2026, 11, 29, 8, 0, 0, 123000, time.UTC)
			var nullText, text *string
			var nullAt, setAt *time.Time
			if err := st.Pool.QueryRow(ctx, `SELECT NULL::text, 'Maria'::text, NULL::timestamptz, $1::timestamptz`, at).
				Scan(&nullText, &text, &nullAt, &setAt); err != nil {
				t.Fatal(err)
			}
			if nullText != nil || text == nil || *text != "Maria" || nullAt != nil || setAt == nil || !setAt.Equal(at) {
				t.Errorf("got %v %v %v %v", nullText, text, nullAt, setAt)
			}
		}},
		{"no parallel query", func(t *testing.T) {
			var v string
			if err := st.Pool.QueryRow(ctx, `SHOW max_parallel_workers_per_gather`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v != "0" {
				t.Errorf("max_parallel_workers_per_gather = %s, want 0", v)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}
}
