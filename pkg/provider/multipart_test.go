package provider_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
)

// file is a stored attachment whose Open serves data, counting the readers it opened and
// closed.
type file struct {
	data           []byte
	opened, closed int
	err            error
}

func (f *file) attachment(mimeType, name string) *provider.Attachment {
	return &provider.Attachment{MIMEType: mimeType, Filename: name, Size: int64(len(f.data)),
		Open: func(context.Context) (io.ReadCloser, error) {
			if f.err != nil {
				return nil, f.err
			}
			f.opened++
			return closer{bytes.NewReader(f.data), &f.closed}, nil
		}}
}

type closer struct {
	io.Reader
	n *int
}

func (c closer) Close() error { *c.n++; return nil }

func TestMultipartRequest(t *testing.T) {
	pdf := &file{data: []byte("%PDF-1.7 the bytes")}
	jpg := &file{data: bytes.Repeat([]byte{0xff, 0xd8, 0x01}, 10000)}
	req, err := provider.MultipartRequest(context.Background(), "test", "https://api.example.com/upload", []provider.Part{
		{Name: "messaging_product", Value: "whatsapp"},
		{Name: "file", File: pdf.attachment("application/pdf", `in"voice.pdf`)},
		{Name: "photo", File: jpg.attachment("image/jpeg", "")},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	_ = req.Body.Close()
	if req.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length %d, body %d bytes", req.ContentLength, len(body))
	}
	if pdf.closed != 1 || jpg.closed != 1 {
		t.Errorf("closed %d and %d", pdf.closed, jpg.closed)
	}
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q", req.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	want := []struct{ name, filename, contentType, data string }{
		{"messaging_product", "", "", "whatsapp"},
		{"file", `in"voice.pdf`, "application/pdf", string(pdf.data)},
		{"photo", "file.jpg", "image/jpeg", string(jpg.data)},
	}
	for _, w := range want {
		p, err := r.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		if p.FormName() != w.name || p.FileName() != w.filename || p.Header.Get("Content-Type") != w.contentType || string(data) != w.data {
			t.Errorf("part %s %q %q (%d bytes), want %s %q %q (%d bytes)", p.FormName(), p.FileName(), p.Header.Get("Content-Type"),
				len(data), w.name, w.filename, w.contentType, len(w.data))
		}
	}
	if _, err := r.NextPart(); err != io.EOF {
		t.Errorf("after the parts: %v", err)
	}
}

func TestMultipartRequestFailures(t *testing.T) {
	t.Run("a file that cannot be opened fails up front and closes the others", func(t *testing.T) {
		ok := &file{data: []byte("x")}
		gone := &file{data: []byte("x"), err: &provider.Error{Provider: "dispatch", Permanent: true, Code: "media_not_found"}}
		_, err := provider.MultipartRequest(context.Background(), "test", "https://x.example", []provider.Part{
			{Name: "a", File: ok.attachment("text/plain", "a.txt")}, {Name: "b", File: gone.attachment("text/plain", "b.txt")}})
		var e *provider.Error
		if !errors.As(err, &e) || !e.Permanent || e.Code != "media_not_found" {
			t.Fatalf("err = %v", err)
		}
		if ok.opened != 1 || ok.closed != 1 {
			t.Errorf("the first file: opened %d, closed %d", ok.opened, ok.closed)
		}
	})
	t.Run("any other open error is transient", func(t *testing.T) {
		f := &file{data: []byte("x"), err: errors.New("bucket unreachable")}
		_, err := provider.MultipartRequest(context.Background(), "test", "https://x.example", []provider.Part{{Name: "a", File: f.attachment("text/plain", "a")}})
		if err == nil || provider.IsPermanent(err) || strings.Contains(err.Error(), "bucket") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a file shorter than its size fails the body", func(t *testing.T) {
		f := &file{data: []byte("short")}
		a := f.attachment("text/plain", "a")
		a.Size = 100
		req, err := provider.MultipartRequest(context.Background(), "test", "https://x.example", []provider.Part{{Name: "a", File: a}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(req.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("read: %v", err)
		}
	})
	t.Run("a link is no file", func(t *testing.T) {
		_, err := provider.MultipartRequest(context.Background(), "test", "https://x.example",
			[]provider.Part{{Name: "a", File: &provider.Attachment{URL: "https://cdn.example.com/a"}}})
		if !provider.IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
}
