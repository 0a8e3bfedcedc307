package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/media"
)

// The seed's messages are text. Issue 19 wants "a thread with media" in the bench, so
// ensureThreads gives threadRows conversations newest messages that carry photos and
// documents, as the API would write them: each file uploaded into the media store (the
// server's MEDIA_STORE, one blob per distinct file, a media row per upload, as POST /v1/media
// makes), then a customer's message on the seeded WhatsApp channel naming them by media id
// (POST /v1/channels/{id}/inbound). To say what media adds, as many other conversations get
// the same number of text messages the same way: the thread scenario reads those, so both
// pages hold as many messages and differ only in the attachments.
//
// The messages' external ids say which conversation and message they are
// (bench:thread-media:<conversation>:<k>), so a later run finds the conversations again, and
// completes a set an interrupted run left short: ingesting an external id twice writes
// nothing.
const (
	threadRows     = 256 // conversations of each kind; the scenarios read variants of them
	threadMessages = 5   // messages ingested into each, the thread's newest
	// threadAge keeps the picked conversations' last message older than a WhatsApp window, so
	// the messages ingested after it open none (no alert, nothing for the window scenarios).
	threadAge = 48 * time.Hour
)

// threadKinds are the two sets, by the prefix of their messages' external ids.
var threadKinds = []struct {
	prefix string
	media  bool
}{{"bench:thread-media:", true}, {"bench:thread-text:", false}}

// threadPrefix is the prefix of both kinds' external ids; threadEnd sorts after every id
// that has it ('.' follows '-'), so a range of the unique external id index finds them.
const threadPrefix, threadEnd = "bench:thread-", "bench:thread."

// threadFile is one of the files the media threads carry.
type threadFile struct {
	name string
	data []byte
}

// ensureThreads makes the threads the thread scenarios read, rows of each kind (threadRows in
// a bench run), when the bench workspace has the seeded WhatsApp channel, and records them in
// the fixture.
func (e *env) ensureThreads(ctx context.Context, f *fixture, rows int) error {
	if f.inboundChannel == "" {
		return nil // unavailable says why the scenarios do not run
	}
	dir, err := mediaDir(e.cfg)
	if err != nil {
		return err
	}
	// The server's own media store, so the blobs the media rows name are there to download.
	files, err := media.Open(ctx, e.st, media.Config{URL: "file://" + dir, MaxBytes: 1 << 20}, time.Now)
	if err != nil {
		return err
	}
	defer files.Close()
	kit, err := threadFiles()
	if err != nil {
		return err
	}
	start := time.Now()
	made := 0
	for _, k := range threadKinds {
		pool, n, err := e.threadSet(ctx, f, files, kit, k.prefix, k.media, rows)
		if err != nil {
			return err
		}
		if k.media {
			f.mediaThreads = pool
		} else {
			f.textThreads = pool
		}
		made += n
	}
	if made == 0 {
		return nil
	}
	logf("made %d thread messages (with media, and text) in %s", made, time.Since(start).Round(time.Second))
	// Fresh statistics, as autovacuum would leave them, so the plans are those of settled data.
	_, err = e.pool.Exec(ctx, `VACUUM (ANALYZE) messages, media, conversations`)
	return err
}

// threadSet finds the conversations of one kind (prefix) and ingests what each lacks of its
// threadMessages messages, picking new conversations (open, by a hash of their ids, not the
// other kind's) until there are rows. It answers the conversations, those found first
// so the set stays the same from run to run, and how many messages it ingested.
func (e *env) threadSet(ctx context.Context, f *fixture, files *media.Service, kit []threadFile, prefix string, withMedia bool, rows int) ([]string, int, error) {
	// Once they are written, the external ids' index answers alone, without the pick below,
	// which reads every open conversation and its identity (seconds at a million).
	done, err := e.pick(ctx, `
SELECT conversation_id FROM messages
WHERE workspace_id = $1 AND channel_id = $2 AND external_id >= $3 AND external_id < $4
GROUP BY conversation_id HAVING count(*) >= $5
ORDER BY md5(conversation_id::text) LIMIT $6`, f.workspaceID, f.inboundChannel, prefix, prefix[:len(prefix)-1]+";", threadMessages, rows)
	if err != nil {
		return nil, 0, fmt.Errorf("threads %s: %w", prefix, err)
	}
	if len(done) == rows {
		pool := make([]string, len(done))
		for n, id := range done {
			pool[n] = id.String()
		}
		return pool, 0, nil
	}
	found, err := e.pool.Query(ctx, `
WITH taken AS (
    SELECT conversation_id, count(*) FILTER (WHERE external_id >= $3 AND external_id < $4) AS n
    FROM messages
    WHERE workspace_id = $1 AND channel_id = $2 AND external_id >= $5 AND external_id < $6
    GROUP BY conversation_id
)
SELECT v.id, i.identifier, v.last_message_at, coalesce(t.n, 0)
FROM conversations v
JOIN LATERAL (SELECT identifier FROM contact_identities
              WHERE workspace_id = v.workspace_id AND contact_id = v.contact_id AND channel_id = $2
              ORDER BY id LIMIT 1) i ON true
LEFT JOIN taken t ON t.conversation_id = v.id
WHERE v.workspace_id = $1
  AND (t.n > 0 OR (t.conversation_id IS NULL AND v.status = 'open' AND v.last_message_at < $7))
ORDER BY t.n IS NULL, md5(v.id::text)
LIMIT $8`, f.workspaceID, f.inboundChannel, prefix, prefix[:len(prefix)-1]+";", threadPrefix, threadEnd,
		time.Now().Add(-threadAge), rows)
	if err != nil {
		return nil, 0, fmt.Errorf("threads %s: %w", prefix, err)
	}
	type thread struct {
		id         uuid.UUID
		identifier string
		last       time.Time
		have       int
	}
	convs, err := pgx.CollectRows(found, func(r pgx.CollectableRow) (thread, error) {
		var c thread
		var have int64
		err := r.Scan(&c.id, &c.identifier, &c.last, &have)
		c.have = int(have)
		return c, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("threads %s: %w", prefix, err)
	}
	channel := uuid.MustParse(f.inboundChannel)
	pool := make([]string, len(convs))
	made := 0
	for n, c := range convs {
		pool[n] = c.id.String()
		for k := c.have; k < threadMessages; k++ {
			// A second apart after the thread's last message: its newest, without moving the
			// conversation in the inbox's order.
			at := c.last.Add(time.Duration(k-c.have+1) * time.Second)
			ext := prefix + c.id.String() + ":" + strconv.Itoa(k)
			in := conversation.InboundMessage{Identifier: c.identifier, ReceivedAt: &at, ExternalID: &ext, Text: pick(inboundTexts, k)}
			if withMedia {
				if in.Attachments, err = threadAttachments(ctx, f, files, kit, k); err != nil {
					return nil, 0, err
				}
				in.Text = pick(mediaCaptions, k)
			}
			out, _, err := f.convs.Ingest(ctx, f.workspaceID, channel, in)
			if err != nil {
				return nil, 0, fmt.Errorf("thread message %s: %w", ext, err)
			}
			if out.Conversation.ID != c.id {
				// The contact's message went to another of its conversations: the pool would
				// name a conversation without them.
				return nil, 0, fmt.Errorf("thread message %s went to conversation %s", ext, out.Conversation.ID)
			}
			made++
		}
	}
	return pool, made, nil
}

// mediaCaptions are the texts of the media messages; "" is a photo sent without one.
var mediaCaptions = []string{"Here is the photo of the damaged box", "", "The invoice, and the label", "", "Receipt attached"}

// threadAttachments uploads message k's files (1 to 3, as customers send them) and answers
// them as the inbound request names them: by media id.
func threadAttachments(ctx context.Context, f *fixture, files *media.Service, kit []threadFile, k int) ([]conversation.Attachment, error) {
	atts := make([]conversation.Attachment, k%3+1)
	for n := range atts {
		file := pick(kit, k+n)
		m, err := files.Put(ctx, f.workspaceID, bytes.NewReader(file.data), media.New{Filename: file.name})
		if err != nil {
			return nil, fmt.Errorf("upload %s: %w", file.name, err)
		}
		atts[n] = conversation.Attachment{MediaID: &m.ID}
	}
	return atts, nil
}

// threadFiles are the files the media threads carry: a photo, a screenshot and a document,
// under a KiB each (a thread's read never opens a blob, so their size does not matter to it)
// and always the same bytes, so every run stores the same three blobs.
func threadFiles() ([]threadFile, error) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: uint8(y * 5), B: uint8((x + y) * 2), A: 255})
		}
	}
	var photo, shot bytes.Buffer
	if err := jpeg.Encode(&photo, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	if err := png.Encode(&shot, img); err != nil {
		return nil, err
	}
	doc := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	return []threadFile{{"photo.jpg", photo.Bytes()}, {"screenshot.png", shot.Bytes()}, {"invoice.pdf", doc}}, nil
}
