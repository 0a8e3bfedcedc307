package telegram_test

import (
	"testing"

	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/telegram"
)

// FuzzParse runs Parse over the seeds in testdata/fuzz/FuzzParse (realistic webhooks, NUL
// characters, deep nesting) and what the fuzzer derives from them.
func FuzzParse(f *testing.F) { pt.FuzzParse(f, telegram.Parse) }
