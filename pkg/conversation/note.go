package conversation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/errkind"
)

// Notes and mentions (DESIGN §7). A note is a message of the thread that the team writes for
// itself: type note, direction and status internal, on no channel, written by a user (or by an
// API key on behalf of one). It is never delivered and changes nothing about the conversation
// (no reopen, assignment, window or last message): it only takes its place in the thread's
// order. Its mentions name users of the workspace; each user's latest mention per
// conversation feeds inbox=mentions.

// InboxMentions is the inbox of the conversations whose notes mention the caller, latest
// mention first.
const InboxMentions = "mentions"

// MaxMentions is how many users one note may mention.
const MaxMentions = 20

// Mention is a user named in a note: At is when the mention was made (the note's creation,
// or the edit that added the user).
type Mention struct {
	WorkspaceID    uuid.UUID
	UserID         uuid.UUID
	ConversationID uuid.UUID
	NoteID         uuid.UUID
	At             time.Time
}

// NoteDraft is what a caller writes: the text and the users it mentions. In an edit, a nil
// field is left as it is (Mentions: an empty, non-nil slice removes every mention).
type NoteDraft struct {
	Text     *string
	Mentions []uuid.UUID
}

// NoteState is what the store reads for a note change under the conversation's row lock.
type NoteState struct {
	ConversationID uuid.UUID
	ContactID      uuid.UUID
	// Note is the note changed or deleted, as locked; zero when one is created.
	Note Message
	// Users are those of NoteWrite.Users that are users of the workspace.
	Users []uuid.UUID
}

// NoteEvent is what a note change did; its event is note.<NoteEvent>.
type NoteEvent string

// The note changes.
const (
	NoteCreated NoteEvent = "created"
	NoteUpdated NoteEvent = "updated"
	NoteDeleted NoteEvent = "deleted"
)

// NoteChange is what a note change writes: the note as created or edited (as it was, when
// deleted), the mentions it adds, and the users it no longer mentions. An edit that changes
// nothing has Event "".
type NoteChange struct {
	Event   NoteEvent
	Note    Message
	Added   []Mention
	Removed []uuid.UUID
	// Body is the rendered answer when the creation had an Idempotency-Key.
	Body []byte
}

// NoteWrite is one note change prepared by the service for the store.
type NoteWrite struct {
	WorkspaceID uuid.UUID
	// ConversationID is the conversation a note is created in; NoteID the note an edit or a
	// delete changes (the store locks its conversation, then the note).
	ConversationID uuid.UUID
	NoteID         uuid.UUID
	// Users are ids the change names, to check against the workspace's users.
	Users       []uuid.UUID
	Idempotency *Idempotency
	// Decide checks the locked state and returns what to write; a refusal is an error.
	Decide func(st NoteState) (NoteChange, error)
}

// Errors of notes.
var (
	ErrNoteNotFound  = errkind.New(errkind.KindNotFound, "note_not_found", "No such note in this workspace.")
	ErrNoteForbidden = errkind.New(errkind.KindForbidden, "note_forbidden",
		"Only a note's author, owners and managers (and API keys) may edit or delete it.")
	// errNoteAuthor: an API key on its own is nobody to sign a note.
	errNoteAuthor = errkind.Invalid(errkind.Field{Field: "on_behalf_of",
		Message: "is required for an API key: a note is written by a user, so name the user the key writes for"})
	errUnknownMention = errkind.Invalid(errkind.Field{Field: "mentions", Message: "must be users of this workspace"})
)

// noteText checks a note's text: trimmed, 1 to maxText characters.
func noteText(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errkind.Invalid(errkind.Field{Field: "text", Message: "is required: a note has text"})
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxText:
		return "", errkind.Invalid(errkind.Field{Field: "text", Message: fmt.Sprintf("must be at most %d characters", maxText)})
	}
	return s, nil
}

// checkMentions checks a list of mentions: at most MaxMentions, each once.
func checkMentions(ids []uuid.UUID) error {
	if len(ids) > MaxMentions {
		return errkind.Invalid(errkind.Field{Field: "mentions", Message: fmt.Sprintf("must name at most %d users", MaxMentions)})
	}
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			return errkind.Invalid(errkind.Field{Field: "mentions", Message: "must name each user once"})
		}
	}
	return nil
}

// mentionsOf are the mentions of users in ids that are new to a note (not in before), made at.
func mentionsOf(note Message, ids, before []uuid.UUID, at time.Time) []Mention {
	var out []Mention
	for _, id := range ids {
		if !slices.Contains(before, id) {
			out = append(out, Mention{WorkspaceID: note.WorkspaceID, UserID: id, ConversationID: note.ConversationID,
				NoteID: note.ID, At: at})
		}
	}
	return out
}

// known checks that every user in ids is one of the workspace's users (st.Users).
func (st NoteState) known(ids []uuid.UUID) error {
	for _, id := range ids {
		if !slices.Contains(st.Users, id) {
			return errUnknownMention
		}
	}
	return nil
}

// mayChange answers whether the caller may edit or delete the note: its author, owners,
// managers and API keys may; other agents may not.
func mayChange(note Message, by Caller) error {
	if !by.Agent {
		return nil
	}
	if by.User != nil && note.Sender.Kind == ActorUser && note.Sender.ID == *by.User {
		return nil
	}
	return ErrNoteForbidden
}

// NoteStore is what notes need from persistence.
type NoteStore interface {
	// WriteNote runs one note change in a transaction: it claims the Idempotency-Key (or
	// answers the stored replay), locks the conversation (and the note), reads the state,
	// calls Decide and writes the note, its mentions, each mentioned user's latest mention in
	// the conversation, and the events. A missing conversation is ErrNotFound, a missing note
	// (or a message that is no note) ErrNoteNotFound.
	WriteNote(ctx context.Context, w NoteWrite) (NoteChange, *Replay, error)
	// NoteMentions returns a note's mentions of users still in the workspace, in the note's
	// order; a missing note (or a message that is no note) is ErrNoteNotFound.
	NoteMentions(ctx context.Context, ws, id uuid.UUID) ([]Mention, error)
}

// CreateNote writes a note in a conversation, by the caller (a user, or the user an API key
// names in on_behalf_of; a key on its own may not), mentioning users of the workspace.
func (s *Service) CreateNote(ctx context.Context, ws, conversationID uuid.UUID, by Caller, d NoteDraft, idem *Idempotency) (NoteChange, *Replay, error) {
	var text string
	var err error
	if d.Text == nil {
		err = errkind.Invalid(errkind.Field{Field: "text", Message: "is required: a note has text"})
	} else {
		text, err = noteText(*d.Text)
	}
	if err == nil {
		err = checkMentions(d.Mentions)
	}
	if err != nil {
		return NoteChange{}, nil, err
	}
	if by, err = s.resolve(ctx, ws, by); err != nil {
		return NoteChange{}, nil, err
	}
	if by.User == nil {
		return NoteChange{}, nil, errNoteAuthor
	}
	author := *by.User
	mentions := d.Mentions
	if mentions == nil {
		mentions = []uuid.UUID{}
	}
	now := channel.Now(s.now)
	return s.store.WriteNote(ctx, NoteWrite{WorkspaceID: ws, ConversationID: conversationID, Users: mentions, Idempotency: idem,
		Decide: func(st NoteState) (NoteChange, error) {
			if err := st.known(mentions); err != nil {
				return NoteChange{}, err
			}
			n := Message{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), ConversationID: st.ConversationID, ContactID: st.ContactID,
				Direction: Internal, Type: TypeNote, Text: text, Sender: Actor{Kind: ActorUser, ID: author},
				Status: StatusInternal, Mentions: mentions, CreatedAt: now, UpdatedAt: now}
			return NoteChange{Event: NoteCreated, Note: n, Added: mentionsOf(n, mentions, nil, now)}, nil
		}})
}

// EditNote changes a note's text and mentions (a nil field stays): its author, owners,
// managers and API keys may. Users it newly mentions get a mention made now; those it no
// longer mentions lose it. An edit that changes nothing writes nothing.
func (s *Service) EditNote(ctx context.Context, ws, id uuid.UUID, by Caller, d NoteDraft) (Message, error) {
	var text *string
	if d.Text != nil {
		t, err := noteText(*d.Text)
		if err != nil {
			return Message{}, err
		}
		text = &t
	}
	if err := checkMentions(d.Mentions); err != nil {
		return Message{}, err
	}
	now := channel.Now(s.now)
	ch, _, err := s.store.WriteNote(ctx, NoteWrite{WorkspaceID: ws, NoteID: id, Users: d.Mentions,
		Decide: func(st NoteState) (NoteChange, error) {
			n := st.Note
			if err := mayChange(n, by); err != nil {
				return NoteChange{}, err
			}
			out := NoteChange{Note: n}
			if text != nil && *text != n.Text {
				out.Note.Text = *text
			}
			if d.Mentions != nil {
				// Only the users added must still be users: a mention kept from before stays
				// even if that user has since been deleted.
				out.Added = mentionsOf(n, d.Mentions, n.Mentions, now)
				for _, a := range out.Added {
					if !slices.Contains(st.Users, a.UserID) {
						return NoteChange{}, errUnknownMention
					}
				}
				for _, u := range n.Mentions {
					if !slices.Contains(d.Mentions, u) {
						out.Removed = append(out.Removed, u)
					}
				}
				out.Note.Mentions = d.Mentions
			}
			if out.Note.Text == n.Text && slices.Equal(out.Note.Mentions, n.Mentions) {
				return out, nil
			}
			out.Event, out.Note.UpdatedAt = NoteUpdated, now
			return out, nil
		}})
	return ch.Note, err
}

// DeleteNote removes a note from the thread with its mentions: its author, owners, managers
// and API keys may.
func (s *Service) DeleteNote(ctx context.Context, ws, id uuid.UUID, by Caller) error {
	_, _, err := s.store.WriteNote(ctx, NoteWrite{WorkspaceID: ws, NoteID: id,
		Decide: func(st NoteState) (NoteChange, error) {
			if err := mayChange(st.Note, by); err != nil {
				return NoteChange{}, err
			}
			return NoteChange{Event: NoteDeleted, Note: st.Note, Removed: st.Note.Mentions}, nil
		}})
	return err
}

// NoteMentions returns who a note mentions and since when.
func (s *Service) NoteMentions(ctx context.Context, ws, id uuid.UUID) ([]Mention, error) {
	return s.store.NoteMentions(ctx, ws, id)
}
