package provider

import (
	"fmt"
	"mime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// The kinds of media a provider carries: what a file travels as (WhatsApp's image, video, audio,
// document and sticker messages; Telegram's sendPhoto, sendVideo, ...). KindLink is a file the
// provider has no message for, sent as its link in a text (LINE's documents).
const (
	KindImage    = "image"
	KindVideo    = "video"
	KindAudio    = "audio"
	KindDocument = "document"
	KindSticker  = "sticker"
	KindLink     = "link"
)

// Sizes in the providers' documents are decimal: "16 MB" is read as 16,000,000 bytes, the
// smaller of the two readings, so a file we accept is never one the provider refuses for size.
const (
	KB int64 = 1000
	MB int64 = 1000 * KB
)

// KindLimit is what a provider takes as one kind of media.
type KindLimit struct {
	Kind string
	// Types are the media types of the kind ("image/jpeg", or "image/*" for a whole family); nil
	// takes any type.
	Types []string
	// MaxBytes bounds a stored file of the kind; 0 bounds it by nothing of its own. A link's
	// size is unknown, so it is never checked.
	MaxBytes int64
	// LinkTypes, when set, narrows the types a link of the kind may have (Telegram fetches
	// documents by URL only as GIF, PDF or ZIP).
	LinkTypes []string
	// NoCaption says a file of the kind travels without text (Viber's video and file
	// messages): a message with text is refused rather than sent without it.
	NoCaption bool
}

// Limits are a provider's documented limits on the files of one message: one declarative
// table per provider package, which both the send's check (before a send is accepted) and the
// provider's sender (choosing the wire format) read, so the two never disagree.
type Limits struct {
	// Name is the provider as the refusals name it ("WhatsApp Cloud").
	Name string
	// Kinds are tried in order: a file travels as the first kind that takes its type and, when
	// stored, its size (a photo too large for Telegram's sendPhoto goes as a document).
	Kinds []KindLimit
	// MaxFiles bounds the files of one message.
	MaxFiles int
	// TextTakesOne says the caption travels as a message of its own that counts against
	// MaxFiles (a LINE push carries at most five messages, the text among them).
	TextTakesOne bool
	// MaxTotalBytes bounds the stored files of one message together (Twilio MMS, email); 0: no
	// bound of its own.
	MaxTotalBytes int64
	// Groups, when set, are the kinds that may travel together in a message of several files;
	// every file of such a message must be of one group (Telegram's media groups).
	Groups [][]string
	// MaxCaption bounds, in characters, the text sent as the caption of a message's files
	// (WhatsApp's and Telegram's 1024); 0 bounds it by nothing of its own.
	MaxCaption int
	// NoCaption says files travel without text (Messenger's attachments), as KindLimit's
	// NoCaption for every kind.
	NoCaption bool
	// NeedsURL says the provider only fetches files by URL: stored media needs the server's
	// public URL (PUBLIC_BASE_URL) to reach it.
	NeedsURL bool
	// Any takes every file: the sandbox, which delivers nothing.
	Any bool
}

// File is what a check knows of one attachment.
type File struct {
	MIMEType string
	// Size is a stored file's size; 0 for a link, whose size is unknown.
	Size int64
	// Stored is media in the workspace's store (not a link).
	Stored bool
}

// Refusal says which file a provider cannot carry, or that it cannot carry the caption, and
// why.
type Refusal struct {
	// Index is the file's position in the message; -1 when Caption.
	Index int
	// Caption says the text is over the caption's length.
	Caption bool
	Detail  string
}

// Kind is the kind f travels as: the first of l.Kinds that takes its type (for a link, its
// LinkTypes too) and, when stored, its size. ok is false when none does.
func (l Limits) Kind(f File) (KindLimit, bool) {
	t := BaseType(f.MIMEType)
	for _, k := range l.Kinds {
		if k.takes(t, f) {
			return k, true
		}
	}
	return KindLimit{}, false
}

// KindOf is the kind a sender sends a as: its kind in l. An attachment with neither stored
// bytes nor a URL, or one l takes as no kind (the send's check refused it, so only a table
// changed since can bring one here), is a permanent error of the provider name.
func (l Limits) KindOf(name string, a Attachment) (KindLimit, error) {
	if a.Open == nil && a.URL == "" {
		return KindLimit{}, Invalid(name, "an attachment needs a file or a URL")
	}
	k, ok := l.Kind(a.File())
	if !ok {
		return KindLimit{}, Invalid(name, l.Name+" cannot carry files of type "+BaseType(a.MIMEType))
	}
	return k, nil
}

func (k KindLimit) takes(t string, f File) bool {
	if k.Types != nil && !TypeIn(t, k.Types) {
		return false
	}
	if !f.Stored && k.LinkTypes != nil && !TypeIn(t, k.LinkTypes) {
		return false
	}
	return !f.Stored || k.MaxBytes == 0 || f.Size <= k.MaxBytes
}

// Check checks one message's files, and the text that goes with them (its caption, or a
// message of its own), against the limits; publicURL says whether the server has a public URL
// the provider could fetch stored media from. It answers nil when the provider can carry them
// all, else the first file it cannot (or the caption) and why.
func (l Limits) Check(files []File, text string, publicURL bool) *Refusal {
	if l.Any {
		return nil
	}
	hasText := text != ""
	if max := l.maxFiles(hasText); len(files) > max {
		return &Refusal{Index: max, Detail: l.countDetail(hasText)}
	}
	if n := utf8.RuneCountInString(text); l.MaxCaption > 0 && len(files) > 0 && n > l.MaxCaption {
		return &Refusal{Index: -1, Caption: true, Detail: fmt.Sprintf("%s takes a caption of up to %d characters with a file; this text has %d.",
			l.Name, l.MaxCaption, n)}
	}
	var total int64
	var group []string
	for i, f := range files {
		if f.Stored && l.NeedsURL && !publicURL {
			return &Refusal{Index: i, Detail: fmt.Sprintf("%s fetches files by URL, and this server has no public URL "+
				"(PUBLIC_BASE_URL) for it to fetch stored media from; send a link instead.", l.Name)}
		}
		k, ok := l.Kind(f)
		if !ok {
			return &Refusal{Index: i, Detail: l.refusedDetail(f)}
		}
		if hasText && (l.NoCaption || k.NoCaption) {
			return &Refusal{Index: -1, Caption: true, Detail: fmt.Sprintf("%s carries no text with a file (%s); send the text as a message of its own.",
				l.Name, k.Kind)}
		}
		if f.Stored {
			total += f.Size
			if l.MaxTotalBytes > 0 && total > l.MaxTotalBytes {
				return &Refusal{Index: i, Detail: fmt.Sprintf("%s takes up to %s of files in one message; these are %s.",
					l.Name, Size(l.MaxTotalBytes), Size(total))}
			}
		}
		if len(files) > 1 && l.Groups != nil {
			if group == nil {
				group = l.group(k.Kind)
			}
			if !slices.Contains(group, k.Kind) {
				return &Refusal{Index: i, Detail: l.groupDetail()}
			}
		}
	}
	return nil
}

func (l Limits) maxFiles(text bool) int {
	if text && l.TextTakesOne {
		return l.MaxFiles - 1
	}
	return l.MaxFiles
}

func (l Limits) countDetail(text bool) string {
	if l.MaxFiles == 1 {
		return fmt.Sprintf("%s takes one attachment per message.", l.Name)
	}
	if text && l.TextTakesOne {
		return fmt.Sprintf("%s takes up to %d messages at once, the text being one of them: up to %d attachments with text.",
			l.Name, l.MaxFiles, l.MaxFiles-1)
	}
	return fmt.Sprintf("%s takes up to %d attachments per message.", l.Name, l.MaxFiles)
}

// refusedDetail says why no kind takes f: its type (or, for a link, its type by link) is not
// one the provider carries, or it is over the size of the kind its type names.
func (l Limits) refusedDetail(f File) string {
	t := BaseType(f.MIMEType)
	for _, k := range l.Kinds {
		if k.Types != nil && !TypeIn(t, k.Types) {
			continue
		}
		if !f.Stored && k.LinkTypes != nil && !TypeIn(t, k.LinkTypes) {
			return fmt.Sprintf("%s takes a %s by link only as %s; upload the file instead.", l.Name, k.Kind, strings.Join(k.LinkTypes, ", "))
		}
		if f.Stored && k.MaxBytes > 0 && f.Size > k.MaxBytes {
			size := Size(f.Size)
			if size == Size(k.MaxBytes) { // over by less than the rounding shows
				size += fmt.Sprintf(" (%d bytes)", f.Size)
			}
			return fmt.Sprintf("%s takes %s up to %s (%s); this file is %s.", l.Name, k.Kind, Size(k.MaxBytes),
				typesText(k.Types), size)
		}
	}
	kinds := make([]string, 0, len(l.Kinds))
	for _, k := range l.Kinds {
		kinds = append(kinds, fmt.Sprintf("%s (%s)", k.Kind, typesText(k.Types)))
	}
	return fmt.Sprintf("%s cannot carry files of type %s; it takes %s.", l.Name, t, strings.Join(kinds, ", "))
}

func typesText(types []string) string {
	if types == nil {
		return "any type"
	}
	return strings.Join(types, ", ")
}

// group is the first of l.Groups that holds kind.
func (l Limits) group(kind string) []string {
	for _, g := range l.Groups {
		if slices.Contains(g, kind) {
			return g
		}
	}
	return []string{kind}
}

func (l Limits) groupDetail() string {
	gs := make([]string, len(l.Groups))
	for i, g := range l.Groups {
		gs[i] = strings.Join(g, " and ")
	}
	return fmt.Sprintf("%s sends several files in one message only as %s, never mixed.", l.Name, strings.Join(gs, "; or "))
}

// BaseType is a media type without its parameters, lower-case, under mimetype's canonical
// name when it has one ("audio/mp3" is audio/mpeg, "text/plain; charset=utf-8" text/plain).
func BaseType(t string) string {
	base, _, err := mime.ParseMediaType(t)
	if err != nil {
		base = strings.ToLower(strings.TrimSpace(t))
	}
	if m := mimetype.Lookup(base); m != nil {
		base, _, _ = mime.ParseMediaType(m.String())
	}
	return base
}

// TypeIn reports whether the base type t is one of types, by their base types too;
// "image/*" names a whole family.
func TypeIn(t string, types []string) bool {
	for _, want := range types {
		if family, ok := strings.CutSuffix(want, "/*"); ok {
			if strings.HasPrefix(t, strings.ToLower(family)+"/") {
				return true
			}
		} else if t == BaseType(want) {
			return true
		}
	}
	return false
}

// Size writes n bytes as the providers' documents do: decimal MB or KB, with a decimal when
// it is not whole ("16 MB", "500 KB", "16.5 MB").
func Size(n int64) string {
	unit, name := int64(1), "bytes"
	switch {
	case n >= MB:
		unit, name = MB, "MB"
	case n >= KB:
		unit, name = KB, "KB"
	}
	if unit == 1 {
		return strconv.FormatInt(n, 10) + " " + name
	}
	v := strconv.FormatFloat(float64(n)/float64(unit), 'f', 1, 64)
	return strings.TrimSuffix(v, ".0") + " " + name
}
