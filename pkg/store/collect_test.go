package store

import (
	"context"
	"strings"
	"testing"
)

// TestCollect: columns go to fields by name, embedded structs included, gorm's column types
// are read as their underlying types, and a column without a field or a field without a
// column is an error naming it.
func TestCollect(t *testing.T) {
	conn := testConn(t)
	type inner struct {
		LastMessageAt string
		Tags          textArray
	}
	type row struct {
		ID     int
		Fields jsonObject
		inner
		Note *string `db:"remark"`
	}
	tests := []struct {
		name, sql, err string
		want           []row
	}{
		{"by name, in any order", `SELECT '{"a": 1}'::jsonb AS fields, 'x' AS last_message_at, 7 AS id,
       ARRAY['t']::text[] AS tags, NULL::text AS remark`, "",
			[]row{{ID: 7, Fields: jsonObject{"a": float64(1)}, inner: inner{LastMessageAt: "x", Tags: textArray{"t"}}}}},
		{"no rows", `SELECT 1 AS id, '{}'::jsonb AS fields, '' AS last_message_at, '{}'::text[] AS tags, '' AS remark WHERE false`,
			"", []row{}},
		{"a column without a field", `SELECT 1 AS id, '{}'::jsonb AS fields, '' AS last_message_at, '{}'::text[] AS tags,
       '' AS remark, 2 AS extra`, "no field for column extra", nil},
		{"a field without a column", `SELECT 1 AS id, '{}'::jsonb AS fields, '' AS last_message_at, '' AS remark`,
			"no column for Tags", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, _ := conn.Query(context.Background(), tc.sql)
			got, err := collect[row](rows, 1)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d rows, want %d", len(got), len(tc.want))
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.ID != w.ID || g.LastMessageAt != w.LastMessageAt || g.Note != w.Note ||
					len(g.Tags) != len(w.Tags) || len(g.Fields) != len(w.Fields) || g.Fields["a"] != w.Fields["a"] {
					t.Errorf("row %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
	t.Run("collectOne of nothing", func(t *testing.T) {
		rows, _ := conn.Query(context.Background(), `SELECT 1 AS id WHERE false`)
		if _, err := collectOne[struct{ ID int }](rows); !isNotFound(err) {
			t.Errorf("err = %v, want no rows", err)
		}
	})
}
