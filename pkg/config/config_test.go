package config

import (
	"math"
	"strings"
	"testing"
)

func TestGarbageCollectorSettings(t *testing.T) {
	tests := []struct {
		name, gogc, memlimit string
		percent              int
		limit                int64
		err                  string
	}{
		{name: "defaults", percent: 400, limit: 150 << 20},
		{name: "set", gogc: "100", memlimit: "1GiB", percent: 100, limit: 1 << 30},
		{name: "bytes", memlimit: "1048576", percent: 400, limit: 1 << 20},
		{name: "unit B", memlimit: "512B", percent: 400, limit: 512},
		{name: "off", gogc: "off", memlimit: "off", percent: -1, limit: math.MaxInt64},
		{name: "bad percent", gogc: "0", err: "GOGC:"},
		{name: "not a number", gogc: "lots", err: "GOGC:"},
		{name: "bad unit", memlimit: "150MB", err: "GOMEMLIMIT:"},
		{name: "negative", memlimit: "-1MiB", err: "GOMEMLIMIT:"},
		{name: "overflow", memlimit: "9999999999TiB", err: "GOMEMLIMIT:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(func(name string) string {
				switch name {
				case "DATABASE_URL":
					return "postgres://localhost/x"
				case "GOGC":
					return tc.gogc
				case "GOMEMLIMIT":
					return tc.memlimit
				}
				return ""
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.GCPercent != tc.percent || c.MemoryLimit != tc.limit {
				t.Errorf("got %d, %d; want %d, %d", c.GCPercent, c.MemoryLimit, tc.percent, tc.limit)
			}
		})
	}
}
