package dispatch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/provider"
)

// files serves stored media from memory: a missing id is media.ErrNotFound, and broken makes
// every read fail as an unreachable store would.
type files struct {
	data   map[uuid.UUID][]byte
	broken bool
}

func (f files) Open(_ context.Context, ws, id uuid.UUID) (media.Media, io.ReadSeekCloser, error) {
	if f.broken {
		return media.Media{}, nil, errors.New("bucket unreachable")
	}
	b, ok := f.data[id]
	if !ok {
		return media.Media{}, nil, media.ErrNotFound
	}
	return media.Media{WorkspaceID: ws, ID: id, Size: int64(len(b))}, nopSeekCloser{bytes.NewReader(b)}, nil
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

type links struct{}

func (links) URL(base string, ws, id uuid.UUID) (string, time.Time) {
	return base + "/v1/media/" + id.String() + "/content?workspace=" + ws.String(), time.Time{}
}

// TestMessageAttachments: a link goes as it is; stored media gets its signed link (only with
// a public URL) and reads its bytes through the media store, a deleted file failing the
// delivery for good and an unreadable store for now.
func TestMessageAttachments(t *testing.T) {
	ws, stored, gone := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	dl := Delivery{To: "+16505551234", Channel: channel.Channel{Provider: channel.ProviderWhatsAppCloud},
		Message: conversation.Message{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), Type: conversation.TypeAttachment, Attachments: []conversation.Attachment{
			{URL: "https://cdn.example.com/a.jpg", MimeType: "image/jpeg", Status: conversation.AttachmentReady},
			{MediaID: &stored, MimeType: "application/pdf", Filename: "invoice.pdf", Size: 5, Status: conversation.AttachmentReady},
			{MediaID: &gone, MimeType: "image/png", Size: 1, Status: conversation.AttachmentReady},
		}}}
	fs := files{data: map[uuid.UUID][]byte{stored: []byte("%PDF-")}}
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()

	d := &Dispatcher{cfg: Config{PublicBaseURL: "https://sb.example.com"}, media: Media{Files: fs, URLs: links{}}, log: log}
	m, err := d.message(dl)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 3 {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	if a := m.Attachments[0]; a.URL != "https://cdn.example.com/a.jpg" || a.Open != nil || a.MediaID != "" {
		t.Errorf("link %+v", a)
	}
	a := m.Attachments[1]
	if a.URL != "https://sb.example.com/v1/media/"+stored.String()+"/content?workspace="+ws.String() || a.MediaID != stored.String() ||
		a.MIMEType != "application/pdf" || a.Filename != "invoice.pdf" || a.Size != 5 {
		t.Errorf("stored %+v", a)
	}
	rc, err := a.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rc); string(b) != "%PDF-" {
		t.Errorf("read %q", b)
	}
	_, err = m.Attachments[2].Open(ctx)
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Permanent || pe.Code != "media_not_found" {
		t.Errorf("deleted media: %v", err)
	}

	d.media.Files = files{broken: true}
	_, err = m.Attachments[1].Open(ctx)
	if !errors.As(err, &pe) || pe.Permanent || pe.Code != "media_unavailable" || bytes.Contains([]byte(pe.Text), []byte("bucket")) {
		t.Errorf("unreadable store: %v", err)
	}

	d.cfg.PublicBaseURL = ""
	m, err = d.message(dl)
	if err != nil || m.Attachments[1].URL != "" || m.Attachments[1].Open == nil {
		t.Errorf("without a public URL: %+v, %v", m.Attachments[1], err)
	}
}
