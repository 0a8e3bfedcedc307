package smtp

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

// maxParts bounds the MIME parts walked, so a hostile message cannot make parsing expensive.
const maxParts = 100

// Verify checks that the inbound mail gateway presented "Authorization: Bearer <secret>",
// comparing in constant time. Mail has no signature of its own; body is not used.
func Verify(h http.Header, _ []byte, inboundSecret string) error {
	if inboundSecret == "" {
		return fmt.Errorf("%w: no inbound secret is configured", provider.ErrSignature)
	}
	token, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return fmt.Errorf("%w: missing bearer secret", provider.ErrSignature)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(inboundSecret)) != 1 {
		return fmt.Errorf("%w: the bearer secret does not match", provider.ErrSignature)
	}
	return nil
}

// Parse reads one raw RFC 5322 message (message/rfc822) into an Inbound: the From address,
// the display name, the Message-ID (without angle brackets) as ExternalID, In-Reply-To, the
// decoded Subject, the Date, the first text/plain part as Text, and the files as Attachments
// with their bytes in Data: every part with Content-Disposition attachment, and inline parts
// that are not text (a pasted image), up to provider.MaxAttachments. A message without a
// Message-ID gets "sha256:<hex of the raw message>", so a redelivered copy still deduplicates.
//
// The files are decoded in memory: the webhook body they come in is already bounded by the
// server's body limit (BODY_LIMIT), and a decoded part is never larger than its encoding.
func Parse(raw []byte) (provider.Event, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return provider.Event{}, fmt.Errorf("inbound mail: %w: %w", provider.ErrMalformed, err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) == 0 {
		return provider.Event{}, fmt.Errorf("inbound mail: %w: no From address", provider.ErrMalformed)
	}
	in := provider.Inbound{
		ExternalID:  bare(msg.Header.Get("Message-ID")),
		From:        strings.ToLower(from[0].Address),
		ContactName: from[0].Name,
		InReplyTo:   bare(firstID(msg.Header.Get("In-Reply-To"))),
		Subject:     decodeHeader(msg.Header.Get("Subject")),
	}
	if in.ExternalID == "" {
		sum := sha256.Sum256(raw)
		in.ExternalID = "sha256:" + hex.EncodeToString(sum[:])
	}
	if date, err := msg.Header.Date(); err == nil {
		in.ReceivedAt = date.UTC()
	}
	var w walker
	if err := w.walk(mailHeader(msg.Header), msg.Body); err != nil {
		return provider.Event{}, fmt.Errorf("inbound mail: %w: %w", provider.ErrMalformed, err)
	}
	in.Text = strings.TrimSpace(strings.ReplaceAll(w.text, "\r\n", "\n"))
	in.Attachments = w.files
	return provider.Event{Inbound: []provider.Inbound{in}}, nil
}

// header is what firstText needs of a message or part header.
type header interface{ Get(string) string }

type mailHeader mail.Header

func (h mailHeader) Get(k string) string { return mail.Header(h).Get(k) }

// walker reads a (possibly nested) MIME structure: the first text/plain body that is not an
// attachment, decoded to UTF-8, and the files.
type walker struct {
	parts int
	text  string
	found bool // text was found (it may be empty)
	files []provider.Attachment
}

// walk reads one part (or the message itself) and, for a multipart, its parts in order.
func (w *walker) walk(h header, body io.Reader) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mediaType, params = "text/plain", map[string]string{}
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			if w.parts++; w.parts > maxParts {
				return nil
			}
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := w.walk(p.Header, p); err != nil {
				return err
			}
		}
	case disp != "attachment" && mediaType == "text/plain":
		if w.found {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(decodeTransfer(h.Get("Content-Transfer-Encoding"), body), 1<<20))
		if err != nil {
			return err
		}
		w.text, w.found = toUTF8(b, params["charset"]), true
		return nil
	case disp != "attachment" && strings.HasPrefix(mediaType, "text/"):
		return nil // the HTML (or other) rendering of the text: not a file
	default:
		if len(w.files) >= provider.MaxAttachments {
			return nil
		}
		b, err := io.ReadAll(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
		if err != nil || len(b) == 0 {
			// A file that does not decode (broken base64) is left out rather than the mail
			// refused: its text still reaches the agents. A broken MIME structure fails on
			// the next part.
			return nil
		}
		name := dparams["filename"]
		if name == "" {
			name = params["name"] // older mailers name the file in Content-Type only
		}
		w.files = append(w.files, provider.Attachment{Data: b, MIMEType: mediaType, Filename: decodeHeader(name),
			Size: int64(len(b))})
		return nil
	}
}

func decodeTransfer(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	default:
		return r
	}
}

// newlineStripper drops CR and LF, which base64 bodies wrap with.
type newlineStripper struct{ r io.Reader }

func (s newlineStripper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// toUTF8 converts the Latin-1 family, the one non-UTF-8 charset the standard library can decode;
// other charsets pass through unchanged.
func toUTF8(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	default:
		return string(b)
	}
}

func decodeHeader(s string) string {
	dec := mime.WordDecoder{}
	if d, err := dec.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// firstID returns the first <...> of a header that may list several.
func firstID(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return s[i : i+j+1]
		}
	}
	return s
}
