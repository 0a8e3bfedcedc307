package media_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/store/storetest"
)

var now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// env is a media service on a fresh database and a fresh directory bucket.
type env struct {
	svc *media.Service
	st  *store.Store
	dir string
}

func newEnv(t *testing.T, maxBytes int64) *env {
	t.Helper()
	st := storetest.New(t, func() time.Time { return now })
	dir := filepath.Join(t.TempDir(), "media") // missing: Open creates it
	svc, err := media.Open(context.Background(), st, media.Config{URL: "file://" + dir, MaxBytes: maxBytes}, func() time.Time { return now })
	if err != nil {
		t.Fatalf("open media: %v", err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	return &env{svc: svc, st: st, dir: dir}
}

// workspace inserts a workspace row (the media tests need nothing else of it).
func (e *env) workspace(t *testing.T) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if _, err := e.st.Pool.Exec(context.Background(), `INSERT INTO workspaces (id, name) VALUES ($1, 'media test')`, id); err != nil {
		t.Fatalf("insert workspace: %v", err)
	}
	return id
}

// contact inserts a contact row of ws.
func (e *env) contact(t *testing.T, ws uuid.UUID) *uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if _, err := e.st.Pool.Exec(context.Background(), `INSERT INTO contacts (workspace_id, id) VALUES ($1, $2)`, ws, id); err != nil {
		t.Fatalf("insert contact: %v", err)
	}
	return &id
}

// blobs lists the files under the bucket's directory, relative to it.
func (e *env) blobs(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(e.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasSuffix(p, ".attrs") { // fileblob's metadata beside each blob
			rel, _ := filepath.Rel(e.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("list bucket: %v", err)
	}
	sort.Strings(out)
	return out
}

func code(err error) string {
	if e, ok := errkind.As(err); ok {
		return e.Code
	}
	return ""
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var png = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"), bytes.Repeat([]byte{0}, 200)...)

// readAll reads what Open gives, and a range of it through Seek.
func readAll(t *testing.T, e *env, ws, id uuid.UUID) (media.Media, []byte) {
	t.Helper()
	m, rd, err := e.svc.Open(context.Background(), ws, id)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return m, b
}

func TestPutGetOpen(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	ws := e.workspace(t)

	// The client's name says text; the bytes say PNG, and the bytes win.
	m, err := e.svc.Put(ctx, ws, bytes.NewReader(png), media.New{Filename: `C:\Users\me\photo.txt`})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	want := media.Media{WorkspaceID: ws, ID: m.ID, SHA256: sum(png), Size: int64(len(png)), MimeType: "image/png",
		Filename: "photo.txt", CreatedAt: now}
	if m != want {
		t.Fatalf("put = %+v, want %+v", m, want)
	}
	got, err := e.svc.Get(ctx, ws, m.ID)
	if err != nil || got != want {
		t.Fatalf("get = %+v, %v; want %+v", got, err, want)
	}
	got, b := readAll(t, e, ws, m.ID)
	if got != want || !bytes.Equal(b, png) {
		t.Fatalf("open = %+v and %d bytes, want %+v and the %d bytes put", got, len(b), want, len(png))
	}

	// Seek serves ranges (http.ServeContent seeks to the end for the size, then to the start).
	_, rd, err := e.svc.Open(ctx, ws, m.ID)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer rd.Close()
	if end, err := rd.Seek(0, io.SeekEnd); err != nil || end != int64(len(png)) {
		t.Fatalf("seek end = %d, %v", end, err)
	}
	if _, err := rd.Seek(8, io.SeekStart); err != nil {
		t.Fatalf("seek: %v", err)
	}
	part := make([]byte, 8)
	if _, err := io.ReadFull(rd, part); err != nil || !bytes.Equal(part, png[8:16]) {
		t.Fatalf("range read %q, %v; want %q", part, err, png[8:16])
	}

	// Another workspace does not see it.
	other := e.workspace(t)
	if _, err := e.svc.Get(ctx, other, m.ID); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("get from another workspace: %v, want media_not_found", err)
	}
	if _, _, err := e.svc.Open(ctx, other, m.ID); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("open from another workspace: %v, want media_not_found", err)
	}
	if _, err := e.svc.Get(ctx, ws, uuid.Must(uuid.NewV7())); code(err) != "media_not_found" {
		t.Fatalf("get unknown: %v", err)
	}
}

// The same bytes uploaded twice in a workspace are stored once; another workspace's copy is
// its own. No temporary upload stays behind.
func TestPutDedupes(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	ws, other := e.workspace(t), e.workspace(t)
	data := make([]byte, 100_000)
	_, _ = rand.Read(data)
	a, err := e.svc.Put(ctx, ws, bytes.NewReader(data), media.New{Filename: "a.bin"})
	if err != nil {
		t.Fatalf("put a: %v", err)
	}
	b, err := e.svc.Put(ctx, ws, bytes.NewReader(data), media.New{Filename: "b.bin"})
	if err != nil {
		t.Fatalf("put b: %v", err)
	}
	c, err := e.svc.Put(ctx, other, bytes.NewReader(data), media.New{})
	if err != nil {
		t.Fatalf("put c: %v", err)
	}
	if a.ID == b.ID || a.SHA256 != b.SHA256 || a.Key() != b.Key() || c.Key() == a.Key() {
		t.Fatalf("a %+v, b %+v, c %+v: want two rows on one key, and the other workspace on its own", a, b, c)
	}
	if got, want := e.blobs(t), []string{a.Key(), c.Key()}; !sameSet(got, want) {
		t.Fatalf("bucket holds %q, want %q", got, want)
	}
	if m, _ := readAll(t, e, ws, b.ID); m.Filename != "b.bin" || m.MimeType != "application/octet-stream" {
		t.Fatalf("b reads as %+v", m)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// countingReader is an endless stream that counts what was read from it.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestPutCap(t *testing.T) {
	const cap = 64 << 10
	e := newEnv(t, cap)
	ctx := context.Background()
	ws := e.workspace(t)

	exact := bytes.Repeat([]byte("x"), cap)
	if m, err := e.svc.Put(ctx, ws, bytes.NewReader(exact), media.New{}); err != nil || m.Size != cap {
		t.Fatalf("put of exactly the cap: %+v, %v", m, err)
	}
	// One byte more is refused, naming the cap, and the stream is not read to its end.
	r := &countingReader{}
	_, err := e.svc.Put(ctx, ws, r, media.New{})
	if code(err) != "media_too_large" || !strings.Contains(err.Error(), "65536 bytes (64 KiB)") {
		t.Fatalf("put over the cap: %v, want media_too_large naming 65536 bytes", err)
	}
	if r.n > cap+sniffRead {
		t.Fatalf("read %d bytes of an endless stream, want at most the cap and a read", r.n)
	}
	// A caller's own cap wins over the service's.
	if _, err := e.svc.Put(ctx, ws, bytes.NewReader(exact), media.New{MaxBytes: 100}); code(err) != "media_too_large" {
		t.Fatalf("put over the caller's cap: %v", err)
	}
	if _, err := e.svc.Put(ctx, ws, bytes.NewReader(nil), media.New{}); code(err) != "validation_failed" {
		t.Fatalf("put of nothing: %v", err)
	}
	// Only the file of exactly the cap is stored: refused uploads leave nothing.
	if got := e.blobs(t); len(got) != 1 || got[0] != ws.String()+"/"+sum(exact) {
		t.Fatalf("bucket holds %q", got)
	}
	if e.svc.MaxBytes() != cap {
		t.Fatalf("MaxBytes = %d", e.svc.MaxBytes())
	}
}

// sniffRead is the most Put reads past the cap: io.Copy's buffer.
const sniffRead = 32 << 10

func TestPutRefusesPrograms(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	ws := e.workspace(t)
	pad := bytes.Repeat([]byte{0}, 128)
	cases := []struct {
		name string
		data []byte
		want string // the type the refusal names; "" when accepted
	}{
		{"ELF executable", append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), pad...), "application/x-executable"},
		{"ELF shared library", append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00"), pad...), "application/x-sharedlib"},
		{"Windows executable", peExe(), "application/vnd.microsoft.portable-executable"},
		{"Mach-O", append([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00"), pad...), "application/x-mach-binary"},
		{"shell script", []byte("#!/bin/sh\nrm -rf ~\n"), "text/x-shellscript"},
		{"python script", []byte("#!/usr/bin/env python3\nprint('hi')\n"), "text/x-python"},
		{"java class", append([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x34"), pad...), "application/x-java-applet"},
		{"wasm", append([]byte("\x00asm\x01\x00\x00\x00"), pad...), "application/wasm"},
		{"plain text", []byte("hello, this is a note\n"), ""},
		{"PDF", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), ""},
		{"PNG", png, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.svc.Put(ctx, ws, bytes.NewReader(tc.data), media.New{Filename: "x"})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if code(err) != "media_type_refused" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("put = %+v, %v; want media_type_refused naming %s", m, err, tc.want)
			}
		})
	}
}

// peExe is the head of a minimal PE file: an MZ header pointing at a PE signature.
func peExe() []byte {
	b := make([]byte, 512)
	copy(b, "MZ")
	b[0x3c] = 0x80
	copy(b[0x80:], "PE\x00\x00")
	return b
}

// A deleted contact's media goes with it, and the sweep deletes its blob, unless another row
// (an upload of the same bytes) still refers to it.
func TestContactDeletionSweepsBlobs(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	ws := e.workspace(t)
	customer := e.contact(t, ws)
	own := []byte("only the customer sent this")
	shared := []byte("the customer and an agent both have this")
	m1, err := e.svc.Put(ctx, ws, bytes.NewReader(own), media.New{ContactID: customer})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	m2, err := e.svc.Put(ctx, ws, bytes.NewReader(shared), media.New{ContactID: customer})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	upload, err := e.svc.Put(ctx, ws, bytes.NewReader(shared), media.New{})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if got, err := e.svc.Get(ctx, ws, m1.ID); err != nil || got.ContactID == nil || *got.ContactID != *customer {
		t.Fatalf("get = %+v, %v; want the contact", got, err)
	}
	if err := e.st.DeleteContact(ctx, ws, *customer); err != nil {
		t.Fatalf("delete contact: %v", err)
	}
	for _, id := range []uuid.UUID{m1.ID, m2.ID} {
		if _, _, err := e.svc.Open(ctx, ws, id); !errors.Is(err, media.ErrNotFound) {
			t.Fatalf("open a deleted contact's media: %v, want media_not_found", err)
		}
	}
	// One deleting statement, two blobs: two records.
	if n, err := e.svc.Sweep(ctx, 100); err != nil || n != 2 {
		t.Fatalf("sweep = %d, %v", n, err)
	}
	if got, want := e.blobs(t), []string{upload.Key()}; !slices.Equal(got, want) {
		t.Fatalf("bucket holds %q after the sweep, want only the shared blob %q", got, want)
	}
	if _, b := readAll(t, e, ws, upload.ID); !bytes.Equal(b, shared) {
		t.Fatalf("the upload reads %q", b)
	}
	if n, err := e.svc.Sweep(ctx, 100); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want nothing left", n, err)
	}
	// A contact that does not exist is refused before anything is stored.
	if _, err := e.svc.Put(ctx, ws, bytes.NewReader(own), media.New{ContactID: customer}); !errors.Is(err, contact.ErrNotFound) {
		t.Fatalf("put for a deleted contact: %v, want contact_not_found", err)
	}
	if got := e.blobs(t); len(got) != 1 {
		t.Fatalf("bucket holds %q after a refused put", got)
	}
}

// A Put of bytes whose last row was deleted keeps the blob from the sweep (the row is there
// when the sweep looks), and a Put after the sweep removed the blob writes it again.
func TestSweepAndPutOfTheSameBytes(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	ws := e.workspace(t)
	data := []byte("sent, deleted, and sent again")

	c1 := e.contact(t, ws)
	if _, err := e.svc.Put(ctx, ws, bytes.NewReader(data), media.New{ContactID: c1}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := e.st.DeleteContact(ctx, ws, *c1); err != nil {
		t.Fatalf("delete contact: %v", err)
	}
	again, err := e.svc.Put(ctx, ws, bytes.NewReader(data), media.New{})
	if err != nil {
		t.Fatalf("put again: %v", err)
	}
	if n, err := e.svc.Sweep(ctx, 100); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v", n, err)
	}
	if _, b := readAll(t, e, ws, again.ID); !bytes.Equal(b, data) {
		t.Fatalf("after the sweep the new row reads %q", b)
	}

	// Now the sweep removes the blob first; the next Put stores it again.
	c2 := e.contact(t, ws)
	if _, err := e.svc.Put(ctx, ws, bytes.NewReader([]byte("another file")), media.New{ContactID: c2}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := e.st.DeleteContact(ctx, ws, *c2); err != nil {
		t.Fatalf("delete contact: %v", err)
	}
	if _, err := e.svc.Sweep(ctx, 100); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if got := e.blobs(t); len(got) != 1 {
		t.Fatalf("bucket holds %q, want the first file's blob alone", got)
	}
	m, err := e.svc.Put(ctx, ws, bytes.NewReader([]byte("another file")), media.New{})
	if err != nil {
		t.Fatalf("put after the sweep: %v", err)
	}
	if _, b := readAll(t, e, ws, m.ID); string(b) != "another file" {
		t.Fatalf("reads %q", b)
	}
}

// Deleting a workspace deletes its rows (the cascade) and the sweep its blobs.
func TestWorkspaceDeletionSweepsBlobs(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	ws, other := e.workspace(t), e.workspace(t)
	for i := range 3 {
		if _, err := e.svc.Put(ctx, ws, strings.NewReader(strings.Repeat("file ", i+1)), media.New{}); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	kept, err := e.svc.Put(ctx, other, strings.NewReader("file "), media.New{})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := e.st.Pool.Exec(ctx, `DELETE FROM workspaces WHERE id = $1`, ws); err != nil {
		t.Fatalf("delete workspace: %v", err)
	}
	// Two records a call: the sweep goes on where it stopped.
	var total int64
	for {
		n, err := e.svc.Sweep(ctx, 2)
		if err != nil {
			t.Fatalf("sweep: %v", err)
		}
		if total += n; n < 2 {
			break
		}
	}
	if total != 3 {
		t.Fatalf("swept %d records, want 3", total)
	}
	if got, want := e.blobs(t), []string{kept.Key()}; !slices.Equal(got, want) {
		t.Fatalf("bucket holds %q, want %q", got, want)
	}
}

// Temporary uploads a dead process left behind are deleted once old enough.
func TestSweepTemp(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	ws := e.workspace(t)
	if _, err := e.svc.Put(ctx, ws, strings.NewReader("kept"), media.New{}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(e.dir, "tmp"), 0o700); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	left := filepath.Join(e.dir, "tmp", uuid.NewString())
	if err := os.WriteFile(left, []byte("half an upload"), 0o600); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := os.Chtimes(left, now.Add(-2*time.Hour), now.Add(-2*time.Hour)); err != nil {
		t.Fatalf("chtimes: %v", err)
	}
	fresh := filepath.Join(e.dir, "tmp", uuid.NewString())
	if err := os.WriteFile(fresh, []byte("an upload in progress"), 0o600); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := os.Chtimes(fresh, now, now); err != nil {
		t.Fatalf("chtimes: %v", err)
	}
	if n, err := e.svc.SweepTemp(ctx, time.Hour); err != nil || n != 1 {
		t.Fatalf("sweep temp = %d, %v", n, err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old upload is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("the fresh upload went: %v", err)
	}
}
