package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/media"
)

// Media rows (migration 0016). Their bytes are in the blob store, shared by the rows of a
// workspace with the same sha256; the blob's advisory lock (mediaBlobLockSQL) orders a Put
// that refers to a blob against the sweep that deletes it.

type mediaRow struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	ContactID   *uuid.UUID
	SHA256      string
	Size        int64
	MimeType    string
	Filename    *string
	CreatedAt   time.Time
}

func (r mediaRow) domain() media.Media {
	m := media.Media{WorkspaceID: r.WorkspaceID, ID: r.ID, ContactID: r.ContactID, SHA256: r.SHA256, Size: r.Size,
		MimeType: r.MimeType, CreatedAt: r.CreatedAt.UTC()}
	if r.Filename != nil {
		m.Filename = *r.Filename
	}
	return m
}

func toMediaRow(m media.Media) mediaRow {
	r := mediaRow{WorkspaceID: m.WorkspaceID, ID: m.ID, ContactID: m.ContactID, SHA256: m.SHA256, Size: m.Size,
		MimeType: m.MimeType, CreatedAt: m.CreatedAt}
	if m.Filename != "" {
		r.Filename = &m.Filename
	}
	return r
}

// mediaColumns are mediaRow's columns.
const mediaColumns = `workspace_id, id, contact_id, sha256, size, mime_type, filename, created_at`

// mediaBlobLockSQL takes the transaction-scoped advisory lock of the blob ($1 workspace, $2
// sha256). The key space is the store's other advisory locks' (hashtextextended of a text),
// told apart by the prefix.
const mediaBlobLockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('media:' || $1::text || '/' || $2, 0))`

// CreateMedia inserts m and then runs ensure (which makes sure m's blob exists) before
// committing, all under the blob's advisory lock: the sweep, which takes it too, either sees
// the committed row and keeps the blob, or deletes the blob before ensure looks for it. A
// contact that does not exist (or went meanwhile) is contact.ErrNotFound. The row is inserted
// first so that a refused insert copies no blob.
func (s *Store) CreateMedia(ctx context.Context, m media.Media, ensure func(ctx context.Context) error) error {
	r := toMediaRow(m)
	const insert = `INSERT INTO media (` + mediaColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	return s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var b batch
		b.exec("lock media blob", statement{mediaBlobLockSQL, []any{r.WorkspaceID, r.SHA256}})
		b.execWrap(statement{insert, []any{r.WorkspaceID, r.ID, r.ContactID, r.SHA256, r.Size, r.MimeType, r.Filename, r.CreatedAt}},
			func(err error) error {
				if code, _ := pgCode(err); code == foreignKeyViolation && r.ContactID != nil {
					return contact.ErrNotFound
				}
				return fmt.Errorf("insert media: %w", err)
			})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		return nil, ensure(ctx)
	})
}

// MediaByID reads a workspace's media; none is media.ErrNotFound.
func (s *Store) MediaByID(ctx context.Context, ws, id uuid.UUID) (media.Media, error) {
	const q = `SELECT ` + mediaColumns + ` FROM media WHERE workspace_id = $1 AND id = $2`
	r, err := queryRow[mediaRow](ctx, s.Pool, q, ws, id)
	if err != nil {
		if isNotFound(err) {
			return media.Media{}, media.ErrNotFound
		}
		return media.Media{}, fmt.Errorf("get media: %w", err)
	}
	return r.domain(), nil
}

const (
	// takeMediaOrphanSQL takes the oldest record no other sweep holds.
	takeMediaOrphanSQL = `
SELECT id, workspace_id, sha256 FROM media_orphans ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`
	mediaBlobReferencedSQL = `SELECT EXISTS (SELECT 1 FROM media WHERE workspace_id = $1 AND sha256 = $2)`
)

// SweepMedia takes up to limit records of deleted media rows (media_orphans), one transaction
// each: under the blob's advisory lock, it calls remove when no row refers to the blob any
// more (a Put of the same bytes may have since), then deletes the record. A remove that fails
// keeps the record for the next sweep. It answers how many records it took.
func (s *Store) SweepMedia(ctx context.Context, limit int, remove func(ctx context.Context, ws uuid.UUID, sha256 string) error) (int64, error) {
	var n int64
	for ; n < int64(limit); n++ {
		found := false
		err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
			var id int64
			var ws uuid.UUID
			var sum string
			if err := tx.QueryRow(ctx, takeMediaOrphanSQL).Scan(&id, &ws, &sum); err != nil {
				if isNotFound(err) {
					return nil, nil
				}
				return nil, fmt.Errorf("take media orphan: %w", err)
			}
			found = true
			// The EXISTS runs after the lock is granted, so (read committed) it sees every row
			// committed by a Put that held the lock before.
			if _, err := tx.Exec(ctx, mediaBlobLockSQL, ws, sum); err != nil {
				return nil, fmt.Errorf("lock media blob: %w", err)
			}
			var referenced bool
			if err := tx.QueryRow(ctx, mediaBlobReferencedSQL, ws, sum).Scan(&referenced); err != nil {
				return nil, fmt.Errorf("media blob referenced: %w", err)
			}
			if !referenced {
				if err := remove(ctx, ws, sum); err != nil {
					return nil, err
				}
			}
			var b batch
			b.exec("forget media orphan", statement{`DELETE FROM media_orphans WHERE id = $1`, []any{id}})
			return &b, nil
		})
		if err != nil || !found {
			return n, err
		}
	}
	return n, nil
}

// mediaByIDsSQL reads the media of a workspace among ids ($2, a uuid[]): a message's
// attachments, in one statement however many they name.
const mediaByIDsSQL = `SELECT ` + mediaColumns + ` FROM media WHERE workspace_id = $1 AND id = ANY($2)`

// queueMedia queues the read of a workspace's media among ids into dst, when there are ids.
func queueMedia(b *batch, ws uuid.UUID, ids []uuid.UUID, dst *[]mediaRow) {
	if len(ids) > 0 {
		queueRows(b, "read media", dst, statement{mediaByIDsSQL, []any{ws, ids}})
	}
}

// mediaByID is the media rows read by queueMedia, by id.
func mediaByID(rows []mediaRow) map[uuid.UUID]media.Media {
	out := make(map[uuid.UUID]media.Media, len(rows))
	for _, r := range rows {
		out[r.ID] = r.domain()
	}
	return out
}
