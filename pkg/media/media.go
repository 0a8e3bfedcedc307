// Package media stores files — agents' uploads and the photos and documents customers send —
// in a blob store (gocloud.dev/blob: a directory, or any S3-compatible bucket), content-addressed
// per workspace, with their metadata in the database. It streams: neither Put nor Open holds a
// whole file in memory.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"github.com/google/uuid"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	// The bucket schemes MEDIA_STORE may name: file:// (the embedded default) and s3://.
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Media is a stored file's metadata; its bytes are in the blob store under Key().
type Media struct {
	WorkspaceID, ID uuid.UUID
	// ContactID is the customer who sent it; deleting the contact deletes the media. Nil for
	// uploads.
	ContactID *uuid.UUID
	SHA256    string // hex, lower-case
	Size      int64
	MimeType  string // sniffed from the bytes, never trusted from the client
	Filename  string // "" when none
	CreatedAt time.Time
}

// Key is where the media's bytes are in the blob store: content-addressed per workspace, so
// rows with the same bytes share it.
func (m Media) Key() string { return blobKey(m.WorkspaceID, m.SHA256) }

func blobKey(ws uuid.UUID, sum string) string { return ws.String() + "/" + sum }

// tmpPrefix holds uploads in progress, before their hash (and so their key) is known. Workspace
// ids are UUIDs, so no blob key starts with it.
const tmpPrefix = "tmp/"

// New is what Put is told about a file besides its bytes.
type New struct {
	Filename  string
	ContactID *uuid.UUID
	MaxBytes  int64 // 0: the service's cap (MEDIA_MAX_BYTES)
}

// Errors of this package.
var (
	ErrNotFound    = errkind.New(errkind.KindNotFound, "media_not_found", "No such media in this workspace.")
	ErrTooLarge    = errkind.New(errkind.KindTooLarge, "media_too_large", "The file is over the size limit.")
	ErrTypeRefused = errkind.New(errkind.KindInvalid, "media_type_refused", "Files of this type are not accepted.")
)

// refused are the types never accepted, whatever the channel: programs and scripts a
// recipient could run. A type refuses its descendants too (mimetype's tree: a jar is a zip).
var refused = map[string]bool{
	"application/x-msdownload":                      true, // Windows PE (.exe, .dll)
	"application/vnd.microsoft.portable-executable": true,
	"application/x-ms-installer":                    true, // .msi
	"application/x-executable":                      true, // ELF executable
	"application/x-elf":                             true,
	"application/x-sharedlib":                       true,
	"application/x-object":                          true,
	"application/x-coredump":                        true,
	"application/x-mach-binary":                     true,
	"application/java-archive":                      true,
	"application/jar":                               true,
	"application/x-java-applet":                     true, // .class
	"application/vnd.android.package-archive":       true,
	"application/x-chrome-extension":                true,
	"application/wasm":                              true,
	"application/x-ms-shortcut":                     true, // .lnk
	"application/x-bat":                             true,
	"text/x-shellscript":                            true,
	"text/x-sh":                                     true,
	"application/x-sh":                              true,
	"text/x-python":                                 true,
	"text/x-perl":                                   true,
	"text/x-php":                                    true,
	"text/x-lua":                                    true,
	"text/x-tcl":                                    true,
	"text/javascript":                               true,
	"application/javascript":                        true,
}

// Refused reports whether a sniffed type is never accepted.
func Refused(mt *mimetype.MIME) bool {
	for m := mt; m != nil; m = m.Parent() {
		for t := range refused {
			if m.Is(t) { // the type or one of its aliases
				return true
			}
		}
	}
	return false
}

// sniffLen is how much of the head mimetype reads (its default limit).
const sniffLen = 3072

// Store is what the media service needs from persistence.
type Store interface {
	// CreateMedia stores m under the advisory lock of its blob (workspace, sha256), after
	// ensure has made sure the blob exists: the media sweep takes the same lock, so a blob it
	// finds unreferenced is not one a Put is about to refer to.
	CreateMedia(ctx context.Context, m Media, ensure func(ctx context.Context) error) error
	// MediaByID reads a workspace's media; none is ErrNotFound.
	MediaByID(ctx context.Context, ws, id uuid.UUID) (Media, error)
	// SweepMedia takes up to limit blobs whose rows were deleted, and for each, under the
	// blob's lock and if no row refers to it any more, calls remove; then forgets it. It
	// answers how many it took.
	SweepMedia(ctx context.Context, limit int, remove func(ctx context.Context, ws uuid.UUID, sha256 string) error) (int64, error)
}

// Config configures the service.
type Config struct {
	// URL opens the bucket (MEDIA_STORE): file:///dir or s3://bucket?region=...
	URL string
	// MaxBytes is the largest file Put takes when the caller names no cap (MEDIA_MAX_BYTES).
	MaxBytes int64
}

// Service stores and reads media.
type Service struct {
	store    Store
	bucket   *blob.Bucket
	maxBytes int64
	now      func() time.Time
}

// Open opens the bucket cfg.URL names and builds a Service on it. A file:// bucket's directory
// is created if missing, and its temporary files are written beside the blobs (no_tmp_dir) so
// that moving them in is a rename on one file system, never a cross-device copy.
func Open(ctx context.Context, st Store, cfg Config, now func() time.Time) (*Service, error) {
	if cfg.MaxBytes <= 0 {
		return nil, errors.New("media: MaxBytes must be positive")
	}
	u, err := bucketURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	b, err := blob.OpenBucket(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("open media store: %w", err)
	}
	return &Service{store: st, bucket: b, maxBytes: cfg.MaxBytes, now: now}, nil
}

// bucketURL adds file:// buckets' defaults: create_dir and no_tmp_dir.
func bucketURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("media store URL: %w", err)
	}
	if u.Scheme != "file" {
		return raw, nil
	}
	q := u.Query()
	for _, k := range []string{"create_dir", "no_tmp_dir"} {
		if !q.Has(k) {
			q.Set(k, "true")
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Close closes the bucket.
func (s *Service) Close() error { return s.bucket.Close() }

// MaxBytes is the cap Put applies when the caller names none.
func (s *Service) MaxBytes() int64 { return s.maxBytes }

// Put streams r into the store: it sniffs the type from the first bytes, hashes and counts
// while writing to a temporary key, and then moves the bytes to the workspace's
// content-addressed key unless they are there already. More than the cap is ErrTooLarge,
// without reading the rest; a type never accepted (Refused) is ErrTypeRefused before anything
// is written. Memory stays flat whatever the size.
func (s *Service) Put(ctx context.Context, ws uuid.UUID, r io.Reader, in New) (Media, error) {
	limit := in.MaxBytes
	if limit <= 0 {
		limit = s.maxBytes
	}
	head, err := readHead(r)
	if err != nil {
		return Media{}, fmt.Errorf("read media: %w", err)
	}
	n := len(head)
	if int64(n) > limit {
		return Media{}, TooLarge(limit)
	}
	if n == 0 {
		return Media{}, errkind.Invalid(errkind.Field{Field: "file", Message: "is empty"})
	}
	mt := mimetype.Detect(head)
	if Refused(mt) {
		return Media{}, ErrTypeRefused.Detailf("Files of type %s are not accepted.", mt.String())
	}
	m := Media{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), ContactID: in.ContactID, MimeType: mt.String(),
		Filename: cleanFilename(in.Filename), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}

	tmp := tmpPrefix + m.ID.String()
	sum, size, err := s.writeTemp(ctx, tmp, io.MultiReader(bytes.NewReader(head), r), limit, m.MimeType)
	if err != nil {
		return Media{}, err
	}
	// Whatever happens next, the temporary copy goes.
	defer func() { _ = s.bucket.Delete(context.WithoutCancel(ctx), tmp) }()
	m.SHA256, m.Size = sum, size

	err = s.store.CreateMedia(ctx, m, func(ctx context.Context) error {
		ok, err := s.bucket.Exists(ctx, m.Key())
		if err != nil {
			return fmt.Errorf("look for media blob: %w", err)
		}
		if ok {
			return nil // the same bytes are stored already: keep one copy
		}
		if err := s.bucket.Copy(ctx, m.Key(), tmp, nil); err != nil {
			return fmt.Errorf("store media blob: %w", err)
		}
		return nil
	})
	if err != nil {
		return Media{}, err
	}
	return m, nil
}

// readHead reads the first sniffLen bytes of r, or all of a shorter r. Unlike io.ReadFull, it
// tells a short file (EOF) from a stream that failed with io.ErrUnexpectedEOF (a truncated
// multipart part): only the first is a file.
func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, sniffLen)
	n := 0
	for n < len(head) {
		k, err := r.Read(head[n:])
		n += k
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return head[:n], nil
}

// writeTemp copies r to key while hashing and counting it; over limit bytes aborts the write.
func (s *Service) writeTemp(ctx context.Context, key string, r io.Reader, limit int64, contentType string) (string, int64, error) {
	// Cancelling the writer's context before Close discards what it wrote.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: contentType,
		// Small parts: an S3 upload buffers a part per concurrent upload.
		BufferSize: 1 << 20, MaxConcurrency: 1})
	if err != nil {
		return "", 0, fmt.Errorf("write media: %w", err)
	}
	h := sha256.New()
	// One byte past the limit tells an oversized file from one of exactly the limit.
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = TooLarge(limit)
	}
	if err != nil {
		cancel()
		_ = w.Close()
		if _, ok := errkind.As(err); ok {
			return "", 0, err
		}
		return "", 0, fmt.Errorf("write media: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", 0, fmt.Errorf("write media: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// TooLarge is ErrTooLarge naming the cap, for a file (or a body) over limit bytes.
func TooLarge(limit int64) error {
	return ErrTooLarge.Detailf("The file is over the limit of %d bytes (%s).", limit, SizeText(limit))
}

// SizeText writes n bytes in the largest binary unit that divides it ("25 MiB", the way
// MEDIA_MAX_BYTES is set), or in bytes: the one way a media cap is written to people.
func SizeText(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}

// cleanFilename keeps the last element of a client's file name, without control characters,
// and at most 255 bytes: it is echoed in Content-Disposition and shown to people.
func cleanFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// Get reads a workspace's media; another workspace's id is ErrNotFound.
func (s *Service) Get(ctx context.Context, ws, id uuid.UUID) (Media, error) {
	return s.store.MediaByID(ctx, ws, id)
}

// Open returns the media and a reader of its bytes that can Seek (for http.ServeContent's
// ranges); the caller closes it. The reader fetches lazily: opening costs no download, and a
// Seek starts a ranged read.
func (s *Service) Open(ctx context.Context, ws, id uuid.UUID) (Media, io.ReadSeekCloser, error) {
	m, err := s.store.MediaByID(ctx, ws, id)
	if err != nil {
		return Media{}, nil, err
	}
	rd, err := s.bucket.NewReader(ctx, m.Key(), nil)
	if err != nil {
		// A row without its blob is the store's fault, not the caller's: a 500, logged.
		return Media{}, nil, fmt.Errorf("open media %s: %w", m.ID, err)
	}
	return m, rd, nil
}

// Sweep deletes the blobs whose last row went, at most limit records a call, and answers how
// many records it took. Run it periodically (job.AddMediaSweep).
func (s *Service) Sweep(ctx context.Context, limit int) (int64, error) {
	return s.store.SweepMedia(ctx, limit, func(ctx context.Context, ws uuid.UUID, sum string) error {
		err := s.bucket.Delete(ctx, blobKey(ws, sum))
		if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return fmt.Errorf("delete media blob: %w", err)
		}
		return nil
	})
}

// SweepTemp deletes temporary uploads older than age: what a process that died mid-Put left
// behind. It answers how many it deleted.
func (s *Service) SweepTemp(ctx context.Context, age time.Duration) (int64, error) {
	cutoff := s.now().Add(-age)
	it := s.bucket.List(&blob.ListOptions{Prefix: tmpPrefix})
	var n int64
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("list temporary media: %w", err)
		}
		if obj.IsDir || !obj.ModTime.Before(cutoff) {
			continue
		}
		if err := s.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return n, fmt.Errorf("delete temporary media: %w", err)
		}
		n++
	}
}
