package dispatch

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/provider"
)

// TestFailure: what people read when a fetch fails, and whether a retry is pointless.
func TestFailure(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		byID      bool
		reason    string
		permanent bool
	}{
		{"media id unknown", &provider.Error{Provider: "whatsapp", Permanent: true, Code: "100", HTTPStatus: 404,
			Text: "Unsupported get request"}, true, "the provider answered 404 for the media id: Unsupported get request", true},
		{"link gone", &provider.Error{Provider: "messenger", Permanent: true, Code: "403", HTTPStatus: 403, Text: "Forbidden"},
			false, "the provider answered 403 for the media URL", true},
		{"provider down", &provider.Error{Provider: "telegram", Code: "502", HTTPStatus: 502, Text: "Bad Gateway"},
			true, "the provider answered 502 for the media id", false},
		{"no answer", provider.Unreachable("line", io.ErrUnexpectedEOF), true, provider.TextUnreachable, false},
		{"declared over the cap", provider.TooLarge("telegram", 30<<20, 25<<20), true, "the file is over the 25 MiB limit", true},
		{"over the cap while streaming", media.TooLarge(25 << 20), false, "the file is over the 25 MiB limit", true},
		{"refused type", media.ErrTypeRefused.Detailf("Files of type application/x-elf are not accepted."), true,
			"files of type application/x-elf are not accepted", true},
		{"internal address", fmt.Errorf("dial: %w", egress.ErrForbiddenAddress), false,
			"the media URL points at an address that is not allowed", true},
		{"empty file", errkind.Invalid(errkind.Field{Field: "file", Message: "is empty"}), true, "the provider sent an empty file", true},
		{"channel gone", permanentErr("the channel no longer exists"), true, "the channel no longer exists", true},
		{"stream cut", fmt.Errorf("read media: %w", io.ErrUnexpectedEOF), true, "the download was interrupted", false},
		{"store down", errors.New("write media: connection refused"), true, "the download was interrupted", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, permanent := failure(tc.err, tc.byID, 25<<20)
			if reason != tc.reason || permanent != tc.permanent {
				t.Errorf("failure = %q, %v; want %q, %v", reason, permanent, tc.reason, tc.permanent)
			}
		})
	}
}
