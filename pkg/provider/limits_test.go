package provider_test

import (
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
)

// limits is a table shaped like the providers': kinds by type and size, a document kind that
// takes what the photo kind is too small for, link-only types, and groups.
var limits = provider.Limits{
	Name: "Example",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png"}, MaxBytes: 5 * provider.MB},
		{Kind: provider.KindVideo, Types: []string{"video/mp4"}, MaxBytes: 16 * provider.MB},
		{Kind: provider.KindAudio, Types: []string{"audio/*"}, MaxBytes: 16 * provider.MB},
		{Kind: provider.KindDocument, MaxBytes: 50 * provider.MB, LinkTypes: []string{"application/pdf", "image/jpeg"}},
	},
	MaxFiles: 3,
	Groups:   [][]string{{provider.KindImage, provider.KindVideo}, {provider.KindDocument}},
}

func stored(t string, size int64) provider.File {
	return provider.File{MIMEType: t, Size: size, Stored: true}
}
func link(t string) provider.File { return provider.File{MIMEType: t} }

func TestLimitsKind(t *testing.T) {
	tests := []struct {
		name string
		f    provider.File
		kind string // "" when no kind takes it
	}{
		{"a jpeg is an image", stored("image/jpeg", 100), provider.KindImage},
		{"parameters and case do not matter", stored("IMAGE/PNG; foo=bar", 100), provider.KindImage},
		{"an image at its limit", stored("image/jpeg", 5*provider.MB), provider.KindImage},
		{"an image over it is a document", stored("image/jpeg", 5*provider.MB+1), provider.KindDocument},
		{"an alias takes its canonical name", stored("audio/mp3", 100), provider.KindAudio},
		{"a family", stored("audio/ogg", 100), provider.KindAudio},
		{"any other type is a document", stored("application/zip", 100), provider.KindDocument},
		{"over every limit", stored("application/zip", 50*provider.MB+1), ""},
		{"a link's size is unknown", link("video/mp4"), provider.KindVideo},
		{"a link of a link type", link("application/pdf"), provider.KindDocument},
		{"a link of another type", link("application/zip"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, ok := limits.Kind(tc.f)
			if ok != (tc.kind != "") || k.Kind != tc.kind {
				t.Errorf("Kind = %q, %v; want %q", k.Kind, ok, tc.kind)
			}
		})
	}
}

func TestLimitsCheck(t *testing.T) {
	urlOnly := limits
	urlOnly.NeedsURL = true
	total := limits
	total.MaxTotalBytes = 10 * provider.MB
	caption := limits
	caption.TextTakesOne = true
	one := limits
	one.MaxFiles = 1
	strict := limits
	strict.Kinds = limits.Kinds[:3]
	captioned := limits
	captioned.MaxCaption = 5
	tests := []struct {
		name      string
		l         provider.Limits
		files     []provider.File
		text      string
		publicURL bool
		index     int    // -1: accepted, unless caption
		caption   bool   // refused for the caption's length
		detail    string // the refusal's detail
	}{
		{name: "within limits", l: limits, files: []provider.File{stored("image/jpeg", 100), link("video/mp4")}, index: -1},
		{name: "too many", l: limits, files: []provider.File{link("image/png"), link("image/png"), link("image/png"), link("image/png")},
			index: 3, detail: "Example takes up to 3 attachments per message."},
		{name: "one per message", l: one, files: []provider.File{link("image/png"), link("image/png")},
			index: 1, detail: "Example takes one attachment per message."},
		{name: "the text takes one", l: caption, files: []provider.File{link("image/png"), link("image/png"), link("image/png")}, text: "a caption",
			index: 2, detail: "Example takes up to 3 messages at once, the text being one of them: up to 2 attachments with text."},
		{name: "the text takes none where it is a caption", l: limits, files: []provider.File{link("image/png"), link("image/png"), link("image/png")},
			text: "a caption", index: -1},
		{name: "over the size of its kind", l: strict, files: []provider.File{stored("video/mp4", 40*provider.MB)},
			index: 0, detail: "Example takes video up to 16 MB (video/mp4); this file is 40 MB."},
		{name: "over by less than the rounding shows", l: strict, files: []provider.File{stored("video/mp4", 16*provider.MB+1)},
			index: 0, detail: "Example takes video up to 16 MB (video/mp4); this file is 16 MB (16000001 bytes)."},
		{name: "a type by link it takes only stored", l: limits, files: []provider.File{link("application/zip")},
			index: 0, detail: "Example takes a document by link only as application/pdf, image/jpeg; upload the file instead."},
		{name: "a type it cannot carry", l: strict, files: []provider.File{stored("application/zip", 1)},
			index: 0, detail: "Example cannot carry files of type application/zip; it takes image (image/jpeg, image/png), video (video/mp4), audio (audio/*)."},
		{name: "over the size of a kind of any type", l: one, files: []provider.File{stored("application/zip", 60*provider.MB)},
			index: 0, detail: "Example takes document up to 50 MB (any type); this file is 60 MB."},
		{name: "stored media needs a public URL", l: urlOnly, files: []provider.File{link("image/png"), stored("image/png", 10)},
			index: 1, detail: "Example fetches files by URL, and this server has no public URL (PUBLIC_BASE_URL) for it to fetch stored media from; send a link instead."},
		{name: "links need none", l: urlOnly, files: []provider.File{link("image/png")}, index: -1},
		{name: "with a public URL", l: urlOnly, files: []provider.File{stored("image/png", 10)}, publicURL: true, index: -1},
		{name: "over the total", l: total, files: []provider.File{stored("image/png", 4*provider.MB), stored("image/png", 4*provider.MB), stored("image/png", 4*provider.MB)},
			index: 2, detail: "Example takes up to 10 MB of files in one message; these are 12 MB."},
		{name: "groups do not mix", l: limits, files: []provider.File{stored("image/png", 1), stored("video/mp4", 1), stored("application/pdf", 1)},
			index: 2, detail: "Example sends several files in one message only as image and video; or document, never mixed."},
		{name: "a group of one kind", l: limits, files: []provider.File{stored("application/pdf", 1), link("application/pdf")}, index: -1},
		{name: "a kind in no group travels alone", l: limits, files: []provider.File{stored("audio/ogg", 1), stored("audio/ogg", 1)}, index: -1},
		{name: "alone, any kind", l: limits, files: []provider.File{stored("audio/ogg", 1)}, index: -1},
		{name: "a caption at its length", l: captioned, files: []provider.File{link("image/png")}, text: "ñandú", index: -1},
		{name: "a caption over its length", l: captioned, files: []provider.File{link("image/png")}, text: "ñandús",
			index: -1, caption: true, detail: "Example takes a caption of up to 5 characters with a file; this text has 6."},
		{name: "no text with any file", l: func() provider.Limits { l := one; l.NoCaption = true; return l }(), files: []provider.File{link("image/png")},
			text: "hi", index: -1, caption: true, detail: "Example carries no text with a file (image); send the text as a message of its own."},
		{name: "no text with a file of a kind", l: func() provider.Limits {
			l := one
			l.Kinds = append([]provider.KindLimit(nil), one.Kinds...)
			l.Kinds[1].NoCaption = true
			return l
		}(),
			files: []provider.File{link("video/mp4")}, text: "hi", index: -1, caption: true, detail: "Example carries no text with a file (video); send the text as a message of its own."},
		{name: "a kind without text, sent without", l: func() provider.Limits { l := one; l.NoCaption = true; return l }(), files: []provider.File{link("image/png")}, index: -1},
		{name: "the sandbox takes anything", l: provider.Limits{Any: true}, files: make([]provider.File, 11), index: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.l.Check(tc.files, tc.text, tc.publicURL)
			if tc.index < 0 && !tc.caption {
				if r != nil {
					t.Fatalf("refused: %+v", r)
				}
				return
			}
			if r == nil {
				t.Fatal("accepted")
			}
			if r.Index != tc.index || r.Caption != tc.caption || r.Detail != tc.detail {
				t.Errorf("refusal = %d %v %q\nwant      %d %v %q", r.Index, r.Caption, r.Detail, tc.index, tc.caption, tc.detail)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 999: "999 bytes", 500 * provider.KB: "500 KB", 16 * provider.MB: "16 MB",
		16_500_000: "16.5 MB", 1_234_567: "1.2 MB"} {
		if got := provider.Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
