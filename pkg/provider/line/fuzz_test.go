package line_test

import (
	"testing"

	"github.com/switchboard/switchboard/pkg/provider/line"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// FuzzParse runs Parse over the seeds in testdata/fuzz/FuzzParse (realistic webhooks, NUL
// characters, deep nesting) and what the fuzzer derives from them.
func FuzzParse(f *testing.F) { pt.FuzzParse(f, line.Parse) }
