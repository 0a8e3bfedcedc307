// Package smtp sends email through an SMTP server (net/smtp, PLAIN auth, STARTTLS or implicit
// TLS) as RFC 5322 text/plain UTF-8 messages threaded with Message-ID, In-Reply-To and
// References, files attached as multipart/mixed base64 parts, and parses inbound mail handed
// to Switchboard as raw RFC 5322.
//
// References followed:
//   - RFC 5321 (SMTP; reply codes 4yz transient, 5yz permanent), RFC 3207 (STARTTLS),
//     RFC 8314 (implicit TLS for submission), RFC 4616 (PLAIN).
//   - RFC 5322 (Internet Message Format: From, To, Subject, Date, Message-ID, In-Reply-To,
//     References), RFC 2045 (MIME, quoted-printable, base64 in 76-character lines), RFC 2046
//     (multipart/mixed), RFC 2183 (Content-Disposition), RFC 2231 (non-ASCII file names),
//     RFC 2047 (encoded words in headers).
//   - Go's net/smtp, net/mail, mime, mime/multipart and mime/quotedprintable documentation.
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	netsmtp "net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/provider"
)

const name = "smtp"

// TLS modes of Config.TLS.
const (
	TLSNone     = "none"     // plain SMTP; PLAIN auth is then only allowed to localhost
	TLSStartTLS = "starttls" // upgrade with STARTTLS, required when chosen (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// defaultTimeout bounds a send whose context has no deadline.
const defaultTimeout = time.Minute

// Config is the channel's provider configuration (DESIGN §6, smtp).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	Host     string `config:"host,host,required"`
	Port     int    `config:"port"`     // 0: 587 for starttls, 465 for tls, 25 for none
	Username string `config:"username"` // empty: no AUTH
	Password string `config:"password,secret"`
	From     string `config:"from,required"`              // "Support <support@example.com>" or "support@example.com"
	TLS      string `config:"tls,enum=starttls tls none"` // TLSNone, TLSStartTLS or TLSImplicit; empty means TLSStartTLS
	// InboundSecret is the bearer secret the mail gateway presents when it posts inbound mail.
	InboundSecret string `config:"inbound_secret,secret"`
}

// Client sends through one SMTP server.
type Client struct {
	cfg    Config
	tls    *tls.Config
	dialer *net.Dialer
	now    func() time.Time
}

var _ provider.Sender = (*Client)(nil)

// New returns a client. tlsConfig may be nil (system roots, ServerName = Host); tests pass one
// that trusts their own certificate. The host is the tenant's choice, so the connection goes
// through dialer, an egress.Dialer; nil is egress.Dialer(false), which refuses loopback too.
func New(cfg Config, tlsConfig *tls.Config, dialer *net.Dialer) *Client {
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[cfg.TLS]
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConfig != nil {
		tc = tlsConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	if dialer == nil {
		dialer = egress.Dialer(false)
	}
	return &Client{cfg: cfg, tls: tc, dialer: dialer, now: time.Now}
}

// Send delivers m as one email and returns its Message-ID (without angle brackets) as the
// provider message id. Stored files travel as MIME parts (multipart/mixed, base64, with their
// file names), streamed from the media store into the SMTP DATA; links go in the text, since
// the adapter never fetches a URL. Email has no templates.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	from, err := mail.ParseAddress(c.cfg.From)
	if err != nil {
		return provider.Result{}, &provider.Error{Provider: name, Permanent: true, Code: "invalid_config", Text: "the from address is invalid"}
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return provider.Result{}, provider.Invalid(name, "the recipient is not an email address")
	}
	e, err := c.compose(from, to, m)
	if err != nil {
		return provider.Result{}, err
	}
	// Every file is opened before the server is called, so one that is gone fails the send
	// before any mail is started.
	files := make([]io.ReadCloser, len(e.files))
	defer func() {
		for _, f := range files {
			if f != nil {
				_ = f.Close()
			}
		}
	}()
	for i, a := range e.files {
		if files[i], err = provider.OpenFile(ctx, name, a); err != nil {
			return provider.Result{}, err
		}
	}
	if err := c.deliver(ctx, from.Address, to.Address, func(w io.Writer) error { return e.write(w, files) }); err != nil {
		return provider.Result{}, err
	}
	return provider.Result{ProviderMessageID: e.msgID}, nil
}

// email is a composed message: its header, its text, and the stored files to attach.
type email struct {
	msgID  string
	header []byte
	text   string
	files  []provider.Attachment
}

// compose builds the RFC 5322 header and sorts the attachments: stored files become parts,
// links go in the text. Header values come from mail.Address and mime encoding, and line
// breaks are removed from the subject, so no input can add a header.
func (c *Client) compose(from, to *mail.Address, m provider.Message) (email, error) {
	e := email{text: m.Text}
	switch m.Type {
	case provider.TypeText, "":
	case provider.TypeAttachment:
		if len(m.Attachments) == 0 {
			return email{}, provider.Invalid(name, "an attachment message needs attachments")
		}
		var links []string
		for _, a := range m.Attachments {
			switch {
			case a.Open != nil:
				e.files = append(e.files, a)
			case a.URL != "":
				links = append(links, a.URL)
			default:
				return email{}, provider.Invalid(name, "an attachment needs a file or a URL")
			}
		}
		e.text = strings.TrimSpace(strings.Join(append([]string{m.Text}, links...), "\n\n"))
	default:
		return email{}, provider.Invalid(name, fmt.Sprintf("email has no %q messages", m.Type))
	}
	if e.text == "" && len(e.files) == 0 {
		return email{}, provider.Invalid(name, "an email needs text")
	}
	local := m.ID
	if local == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		local = hex.EncodeToString(b)
	}
	e.msgID = local + "@" + domain(from.Address)
	if !validID(e.msgID) {
		return email{}, provider.Invalid(name, "the message id cannot form a Message-ID")
	}

	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	if s := oneLine(m.Subject); s != "" {
		header("Subject", mime.QEncoding.Encode("utf-8", s))
	}
	header("Date", c.now().Format(time.RFC1123Z))
	header("Message-ID", "<"+e.msgID+">")
	if id := bare(m.InReplyTo); validID(id) {
		header("In-Reply-To", "<"+id+">")
	}
	var refs []string
	for _, r := range m.References {
		if id := bare(r); validID(id) {
			refs = append(refs, "<"+id+">")
		}
	}
	if len(refs) > 0 {
		header("References", strings.Join(refs, "\r\n "))
	}
	header("MIME-Version", "1.0")
	e.header = b.Bytes()
	return e, nil
}

// write writes the message: a text/plain body, or, with files, multipart/mixed with the text
// first and each file base64-encoded as it is read from files (the opened e.files).
func (e email) write(w io.Writer, files []io.ReadCloser) error {
	if _, err := w.Write(e.header); err != nil {
		return err
	}
	if len(e.files) == 0 {
		return writeText(w, e.text, true)
	}
	mw := multipart.NewWriter(w)
	// Folded: the boundary alone is 60 characters, and lines stay within 78.
	if _, err := fmt.Fprintf(w, "Content-Type: multipart/mixed;\r\n boundary=%s\r\n\r\n", mw.Boundary()); err != nil {
		return err
	}
	if e.text != "" {
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return err
		}
		if err := writeText(pw, e.text, false); err != nil {
			return err
		}
	}
	for i, a := range e.files {
		pw, err := mw.CreatePart(fileHeader(a))
		if err != nil {
			return err
		}
		if err := writeBase64(pw, files[i]); err != nil {
			return err
		}
	}
	return mw.Close()
}

// writeText writes text as quoted-printable, with the header that says so when header is set.
func writeText(w io.Writer, text string, header bool) error {
	if header {
		if _, err := io.WriteString(w, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"); err != nil {
			return err
		}
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ReplaceAll(text, "\r\n", "\n"))); err != nil {
		return err
	}
	if err := qp.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\r\n")
	return err
}

// fileHeader is a file part's header: its type with its name, and Content-Disposition
// attachment with the file name (RFC 2231-encoded when it is not ASCII: mime.FormatMediaType).
func fileHeader(a provider.Attachment) textproto.MIMEHeader {
	filename := provider.FilenameOf(a)
	t, params, err := mime.ParseMediaType(a.MIMEType)
	if err != nil {
		t, params = "application/octet-stream", map[string]string{}
	}
	params["name"] = filename
	contentType := mime.FormatMediaType(t, params)
	if contentType == "" { // a parameter mime cannot write
		contentType = t
	}
	return textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": filename})},
		"Content-Transfer-Encoding": {"base64"},
	}
}

// writeBase64 copies r as base64 in lines of 76 characters (RFC 2045).
func writeBase64(w io.Writer, r io.Reader) error {
	enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: w})
	if _, err := io.Copy(enc, r); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\r\n")
	return err
}

// lineWriter breaks what it writes into lines of 76 characters.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if l.col == 76 {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return n, err
			}
			l.col = 0
		}
		k := min(len(p), 76-l.col)
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		l.col += k
		n += k
		p = p[k:]
	}
	return n, nil
}

// deliver runs one SMTP transaction whose DATA write writes.
func (c *Client) deliver(ctx context.Context, from, to string, write func(io.Writer) error) (err error) {
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port))
	conn, err := c.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return provider.Unreachable(name, err)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultTimeout)
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = provider.Unreachable(name, ctx.Err())
		}
	}()

	if c.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return c.classify(err)
		}
		conn = tc
	}
	sc, err := netsmtp.NewClient(conn, c.cfg.Host)
	if err != nil {
		return c.classify(err)
	}
	defer sc.Close()
	if err := sc.Hello(domain(from)); err != nil {
		return c.classify(err)
	}
	if c.cfg.TLS == TLSStartTLS {
		if ok, _ := sc.Extension("STARTTLS"); !ok {
			return &provider.Error{Provider: name, Permanent: true, Code: "starttls_unavailable",
				Text: "the server does not offer STARTTLS; refusing to send credentials or mail in the clear"}
		}
		if err := sc.StartTLS(c.tls); err != nil {
			return c.classify(err)
		}
	}
	if c.cfg.Username != "" {
		// PlainAuth itself refuses a connection that is neither TLS nor to localhost.
		if err := sc.Auth(netsmtp.PlainAuth("", c.cfg.Username, c.cfg.Password, c.cfg.Host)); err != nil {
			return c.classify(err)
		}
	}
	if err := sc.Mail(from); err != nil {
		return c.classify(err)
	}
	if err := sc.Rcpt(to); err != nil {
		return c.classify(err)
	}
	w, err := sc.Data()
	if err != nil {
		return c.classify(err)
	}
	if err := write(w); err != nil {
		if pe := (*provider.Error)(nil); errors.As(err, &pe) {
			return pe // a stored file that could not be read
		}
		return c.classify(err)
	}
	if err := w.Close(); err != nil {
		return c.classify(err)
	}
	_ = sc.Quit() // the message is accepted once DATA is; a failed QUIT changes nothing
	return nil
}

// classify turns an SMTP reply or a connection error into a provider error: 4yz replies and
// network failures are transient, 5yz replies and certificate or configuration problems final.
// A network failure has one fixed text (provider.Unreachable): whether the server refused,
// closed or stopped answering is for the server's log, not the tenant.
func (c *Client) classify(err error) error {
	var tp *textproto.Error
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var e *provider.Error
	switch {
	case errors.As(err, &tp):
		e = &provider.Error{Provider: name, Permanent: tp.Code >= 500, Code: strconv.Itoa(tp.Code), Text: tp.Msg}
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		e = &provider.Error{Provider: name, Permanent: true, Code: "tls_certificate", Text: err.Error()}
	case isNetError(err):
		e = provider.Unreachable(name, err)
	default: // net/smtp's own refusals: unencrypted connection, wrong host name, no AUTH
		e = &provider.Error{Provider: name, Permanent: true, Code: "smtp", Text: err.Error()}
	}
	return e.Redact(c.cfg.Password, c.cfg.InboundSecret)
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

// bare strips the angle brackets and spaces around a Message-ID.
func bare(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}

// validID accepts a Message-ID body: printable ASCII without spaces or brackets, with one "@".
func validID(id string) bool {
	if id == "" || strings.Count(id, "@") != 1 {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r > '~' || r == '<' || r == '>' {
			return false
		}
	}
	return true
}

func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s))
}

// Limits bound an email's attachments: up to 10 files of any type, 25 MB together before
// base64, the size most mail services take.
var Limits = provider.Limits{
	Name:          "Email",
	Kinds:         []provider.KindLimit{{Kind: provider.KindDocument}},
	MaxFiles:      10,
	MaxTotalBytes: 25 * provider.MB,
}
