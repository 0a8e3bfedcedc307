package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

// Part is one part of a multipart/form-data body: a field's value, or a stored file.
type Part struct {
	Name  string
	Value string
	// File, when set, is the part's content instead of Value: its bytes come from Open, its
	// length from Size, its Content-Type and file name from MIMEType and Filename.
	File *Attachment
}

// MultipartRequest builds a multipart/form-data POST whose files stream from their Open as
// the body is sent, so no file is ever held in memory; the length is known up front from the
// files' sizes, so the request carries a Content-Length (some APIs refuse chunked uploads).
// Every file is opened before it returns, so a file that cannot be read fails here, as the
// Open error (the dispatcher's already says whether it is worth retrying). The caller sends
// the request; the transport closes the files with the body.
func MultipartRequest(ctx context.Context, provider, rawURL string, parts []Part) (*http.Request, error) {
	body, contentType, length, err := multipartBody(ctx, provider, parts)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, body)
	if err != nil {
		_ = body.Close()
		return nil, &Error{Provider: provider, Permanent: true, Code: "invalid_api_base", Text: "the provider URL is malformed"}
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// multipartBody lays the parts out as the fixed text between the files, with the files'
// readers in their places.
func multipartBody(ctx context.Context, provider string, parts []Part) (*filesBody, string, int64, error) {
	var text bytes.Buffer
	w := multipart.NewWriter(&text)
	b := &filesBody{}
	var length int64
	flush := func() {
		length += int64(text.Len())
		b.readers = append(b.readers, bytes.NewReader(bytes.Clone(text.Bytes())))
		text.Reset()
	}
	for _, p := range parts {
		if p.File == nil {
			_ = w.WriteField(p.Name, p.Value)
			continue
		}
		f := p.File
		if f.Open == nil || f.Size <= 0 {
			_ = b.Close()
			return nil, "", 0, Invalid(provider, "a file to upload has no stored bytes")
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quote(p.Name), quote(FilenameOf(*f))))
		h.Set("Content-Type", f.MIMEType)
		if _, err := w.CreatePart(h); err != nil {
			_ = b.Close()
			return nil, "", 0, Invalid(provider, "cannot write the upload: "+err.Error())
		}
		flush()
		rc, err := f.Open(ctx)
		if err != nil {
			_ = b.Close()
			return nil, "", 0, openError(provider, err)
		}
		b.closers = append(b.closers, rc)
		// Exactly Size bytes: a file that turned out shorter fails the request (the length
		// was announced), rather than sending a body that disagrees with its header.
		b.readers = append(b.readers, &exactReader{r: rc, left: f.Size})
		length += f.Size
	}
	_ = w.Close()
	flush()
	b.Reader = io.MultiReader(b.readers...)
	return b, w.FormDataContentType(), length, nil
}

// filesBody is a multipart body that closes the files it reads.
type filesBody struct {
	io.Reader
	readers []io.Reader
	closers []io.Closer
}

// Close closes every file, once.
func (b *filesBody) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c.Close())
	}
	b.closers = nil
	return errors.Join(errs...)
}

// exactReader reads exactly left bytes: fewer is io.ErrUnexpectedEOF.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if errors.Is(err, io.EOF) {
		if e.left > 0 {
			return n, io.ErrUnexpectedEOF
		}
		err = nil
	}
	return n, err
}

// openError is a file that could not be opened for a send: the dispatcher's Open answers a
// *Error that says whether it is worth retrying; anything else is transient.
func openError(provider string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Provider: provider, Code: "media_unavailable", Text: "the stored file cannot be read now", cause: err}
}

// OpenFile opens a stored attachment for a sender that streams it itself (email), with the
// errors MultipartRequest gives.
func OpenFile(ctx context.Context, provider string, a Attachment) (io.ReadCloser, error) {
	if a.Open == nil {
		return nil, Invalid(provider, "the attachment has no stored bytes")
	}
	rc, err := a.Open(ctx)
	if err != nil {
		return nil, openError(provider, err)
	}
	return rc, nil
}

// FilenameOf is the file name a provider is told: the attachment's, else "file" with its
// type's extension, since some APIs and devices read the type from the name.
func FilenameOf(a Attachment) string {
	if a.Filename != "" {
		return a.Filename
	}
	if m := mimetype.Lookup(BaseType(a.MIMEType)); m != nil {
		return "file" + m.Extension()
	}
	return "file"
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// quote escapes a Content-Disposition parameter, as mime/multipart does for its own.
func quote(s string) string { return quoteEscaper.Replace(s) }
