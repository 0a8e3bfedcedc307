// Package seed generates a realistic data set for demos and benchmarks: contacts with names
// in several scripts, emails and mobile numbers of several regions, identities on every
// channel type, open and closed conversations spread over agents, and message threads with
// plausible timestamps. It only generates rows; a Loader writes them in bulk.
package seed

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/rules"
)

// Batch is a chunk of generated rows, complete in itself: every row it references is in it
// or already stored (channels, agents).
type Batch struct {
	Contacts      []contact.Contact
	Conversations []conversation.Conversation
	Identities    []channel.Identity
	Messages      []conversation.Message
	Events        []conversation.Event
}

// Loader writes a batch in bulk.
type Loader interface {
	LoadSeed(ctx context.Context, b Batch) error
}

// Plan says what to generate.
type Plan struct {
	Workspace uuid.UUID
	// Channels holds one channel per type to put identities on (types without one get none).
	Channels map[rules.ChannelType]uuid.UUID
	// Agents are the users conversations are assigned to and replied by.
	Agents []uuid.UUID
	// Categories are the closing note categories (the workspace's, or a default list).
	Categories      []string
	UnassignOnClose bool
	// Offset numbers this run's contacts after those already in the workspace, so emails,
	// phones and identifiers stay unique across runs.
	Offset             int
	MessagesPerContact int
	// ClosedShare and AssignedShare are the fractions of closed and assigned conversations.
	ClosedShare, AssignedShare float64
	Now                        time.Time
	// Seed makes the data reproducible: the same plan and seed give the same rows.
	Seed uint64
	// Days is how far back conversations start.
	Days int
}

// Generator makes batches for a plan.
type Generator struct {
	plan  Plan
	total int // sum of locale weights
	now   time.Time
}

// NewGenerator checks the plan and returns a generator.
func NewGenerator(p Plan) (*Generator, error) {
	if p.MessagesPerContact < 0 {
		return nil, fmt.Errorf("messages per contact must not be negative")
	}
	if len(p.Categories) == 0 {
		p.Categories = defaultCategories
	}
	if p.Days <= 0 {
		p.Days = 90
	}
	g := &Generator{plan: p, now: p.Now.UTC().Truncate(time.Microsecond)}
	for _, l := range locales {
		g.total += l.weight
	}
	return g, nil
}

// DefaultCategories are the closing note categories used when the workspace has none.
func DefaultCategories() []string { return append([]string(nil), defaultCategories...) }

// permute maps k to a unique value in [0, span): multiplying by a number coprime to span
// (odd, not a multiple of 5, and span has only the factors 2 and 5) is a bijection, so the
// numbers look random but never repeat.
func permute(k, span int64) int64 {
	const a, b = 7_654_321, 1_234_567
	hi, lo := bits.Mul64(uint64(k%span), a)
	lo, carry := bits.Add64(lo, b, 0)
	_, rem := bits.Div64(hi+carry, lo, uint64(span))
	return int64(rem)
}

// Phone returns the k-th number of the plan in E.164.
func (p phonePlan) number(k int64) string {
	prefix := p.prefixes[k%int64(len(p.prefixes))]
	sub := strconv.FormatInt(p.low+permute(k, p.span), 10)
	return "+" + p.cc + prefix + strings.Repeat("0", max(0, p.width-len(sub))) + sub
}

func (g *Generator) locale(r *rand.Rand) locale {
	n := r.IntN(g.total)
	for _, l := range locales {
		if n < l.weight {
			return l
		}
		n -= l.weight
	}
	return locales[0]
}

func handle(n name) string {
	s := n.latin
	if s == "" {
		s = strings.ToLower(n.native)
	}
	return strings.ReplaceAll(s, " ", "")
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func ptr[T any](v T) *T { return &v }

func (g *Generator) newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// identifier makes contact k's id on a platform: unique per type and k, shaped like the real ones.
func identifier(t rules.ChannelType, k int64) string {
	switch t {
	case rules.Messenger:
		return strconv.FormatInt(2_400_000_000_000_000+permute(k, 100_000_000_000_000), 10)
	case rules.Instagram:
		return strconv.FormatInt(17_800_000_000_000_000+permute(k, 100_000_000_000_000), 10)
	case rules.Telegram:
		return strconv.FormatInt(100_000_000+permute(k, 1_000_000_000), 10)
	case rules.Viber:
		return fmt.Sprintf("%010x%06x==", permute(k, 1<<40), k%(1<<24))
	case rules.LINE:
		return fmt.Sprintf("U%020x%012x", permute(k, 1<<62), k)
	case rules.WeChat:
		return fmt.Sprintf("oX%014x%012x", permute(k, 1<<50), k)
	case rules.Webchat:
		return fmt.Sprintf("visitor-%012x", permute(k, 1<<48))
	}
	return "ext-" + strconv.FormatInt(k, 10)
}

// channelWeights says how often a contact is reached on each type.
var channelWeights = []struct {
	t rules.ChannelType
	w int
}{
	{rules.WhatsApp, 34}, {rules.SMS, 8}, {rules.Email, 16}, {rules.Messenger, 10}, {rules.Instagram, 8},
	{rules.Telegram, 6}, {rules.Viber, 4}, {rules.LINE, 3}, {rules.WeChat, 3}, {rules.Webchat, 6}, {rules.Custom, 2},
}

// Batch generates contacts [from, to) of the run with everything around them.
func (g *Generator) Batch(from, to int) Batch {
	p := g.plan
	r := rand.New(rand.NewPCG(p.Seed, uint64(from)))
	n := to - from
	b := Batch{
		Contacts:      make([]contact.Contact, 0, n),
		Conversations: make([]conversation.Conversation, 0, n),
		Identities:    make([]channel.Identity, 0, n*2),
		Messages:      make([]conversation.Message, 0, n*p.MessagesPerContact),
		Events:        make([]conversation.Event, 0, n*3),
	}
	span := time.Duration(p.Days) * 24 * time.Hour
	for i := from; i < to; i++ {
		k := int64(p.Offset + i)
		l := g.locale(r)
		first, last := pick(r, l.first), pick(r, l.last)
		start := g.now.Add(-time.Duration(r.Int64N(int64(span)))).Truncate(time.Microsecond)
		c := contact.Contact{WorkspaceID: p.Workspace, ID: g.newID(), FirstName: first.native, LastName: last.native,
			Language: l.language, Country: l.country, Tags: []string{}, CustomFields: map[string]any{},
			CreatedAt: start, UpdatedAt: start}
		if r.Float64() < 0.85 {
			c.Phone = ptr(l.phone.number(k))
		}
		if r.Float64() < 0.8 || c.Phone == nil {
			c.Email = ptr(fmt.Sprintf("%s.%s%d@%s", handle(first), handle(last), k, pick(r, l.domains)))
		}
		if r.Float64() < 0.15 {
			c.Tags = []string{pick(r, []string{"vip", "wholesale", "newsletter", "b2b", "returning"})}
		}

		// Identities: the locale's favourite app, plus one or two others the contact can use.
		var ids []channel.Identity
		has := map[rules.ChannelType]bool{}
		add := func(t rules.ChannelType) {
			ch, ok := p.Channels[t]
			if !ok || has[t] {
				return
			}
			var ident string
			switch t {
			case rules.WhatsApp, rules.SMS:
				if c.Phone == nil {
					return
				}
				ident = *c.Phone
			case rules.Email:
				if c.Email == nil {
					return
				}
				ident = *c.Email
			default:
				ident = identifier(t, k)
			}
			has[t] = true
			ids = append(ids, channel.Identity{WorkspaceID: p.Workspace, ID: g.newID(), ContactID: c.ID, ChannelID: ch,
				ChannelType: t, Identifier: ident, CreatedAt: start, UpdatedAt: start})
		}
		add(rules.ChannelType(l.chat))
		for extra := r.IntN(3); extra > 0; extra-- {
			w := r.IntN(100)
			for _, cw := range channelWeights {
				if w < cw.w {
					add(cw.t)
					break
				}
				w -= cw.w
			}
		}
		if len(ids) == 0 {
			add(rules.Webchat)
			add(rules.Email)
			add(rules.Custom)
		}

		v := conversation.Conversation{WorkspaceID: p.Workspace, ID: g.newID(), Status: conversation.StatusOpen,
			Contact: conversation.ContactSummary{ID: c.ID}, LastMessageAt: start, CreatedAt: start, UpdatedAt: start}
		b.Events = append(b.Events, conversation.Event{WorkspaceID: p.Workspace, ID: g.newID(), ConversationID: v.ID,
			Type: conversation.EventOpened, Actor: conversation.Actor{Kind: conversation.ActorSystem}, At: start})
		var agent *uuid.UUID
		if len(p.Agents) > 0 && r.Float64() < p.AssignedShare {
			a := pick(r, p.Agents)
			agent = &a
			at := start.Add(time.Duration(1+r.IntN(30)) * time.Minute)
			b.Events = append(b.Events, conversation.Event{WorkspaceID: p.Workspace, ID: g.newID(), ConversationID: v.ID,
				Type: conversation.EventAssigned, Actor: conversation.Actor{Kind: conversation.ActorSystem}, AssigneeID: agent, At: at})
			v.AssigneeID = agent
		}

		// The thread: the customer writes first; replies and follow-ups minutes to hours apart.
		at := start
		lastIn := map[uuid.UUID]time.Time{}
		sinceIn := map[uuid.UUID]int{}
		cur := ids[0]
		for m := 0; m < p.MessagesPerContact; m++ {
			if m > 0 {
				at = at.Add(time.Duration(1+r.IntN(240)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)
			}
			if at.After(g.now) {
				at = g.now
			}
			incoming := m == 0 || r.Float64() < 0.45 || (agent == nil && len(p.Agents) == 0)
			msg := conversation.Message{WorkspaceID: p.Workspace, ID: g.newID(), ConversationID: v.ID, ContactID: c.ID,
				Type: conversation.TypeText, CreatedAt: at, UpdatedAt: at}
			if incoming {
				if len(ids) > 1 && r.Float64() < 0.15 {
					cur = pick(r, ids)
				}
				msg.Direction, msg.Status, msg.Text = conversation.Incoming, conversation.StatusReceived, pick(r, incomingTexts)
				msg.Sender = conversation.Actor{Kind: conversation.ActorContact, ID: c.ID}
				lastIn[cur.ID], sinceIn[cur.ID] = at, 0
				v.IncomingCount++
			} else {
				sender := agent
				if sender == nil {
					sender = ptr(pick(r, p.Agents))
				}
				msg.Direction, msg.Text = conversation.Outgoing, pick(r, outgoingTexts)
				msg.Status = pick(r, []conversation.MessageStatus{conversation.StatusDelivered, conversation.StatusRead, conversation.StatusRead, conversation.StatusSent})
				msg.Sender = conversation.Actor{Kind: conversation.ActorUser, ID: *sender}
				sinceIn[cur.ID]++
			}
			id := cur.ID
			msg.ChannelID, msg.IdentityID = cur.ChannelID, &id
			b.Messages = append(b.Messages, msg)
			pv := msg.Preview()
			v.LastMessage, v.LastMessageAt, v.UpdatedAt = &pv, at, at
		}
		for j := range ids {
			if t, ok := lastIn[ids[j].ID]; ok {
				ids[j].LastInboundAt = ptr(t)
				ids[j].OutboundSinceInbound = sinceIn[ids[j].ID]
				ids[j].UpdatedAt = t
			}
		}

		if r.Float64() < p.ClosedShare {
			closedAt := v.LastMessageAt.Add(time.Duration(5+r.IntN(120)) * time.Minute)
			if closedAt.After(g.now) {
				closedAt = g.now
			}
			by := conversation.Actor{Kind: conversation.ActorSystem}
			if agent != nil {
				by = conversation.Actor{Kind: conversation.ActorUser, ID: *agent}
			} else if len(p.Agents) > 0 {
				by = conversation.Actor{Kind: conversation.ActorUser, ID: pick(r, p.Agents)}
			}
			cat, sum := pick(r, p.Categories), pick(r, summaries)
			events, _ := v.Close(&cat, &sum, p.UnassignOnClose, by, closedAt)
			b.Events = append(b.Events, events...)
		}
		c.Conversation = contact.ConversationRef{ID: v.ID, Status: string(v.Status)}
		b.Contacts = append(b.Contacts, c)
		b.Conversations = append(b.Conversations, v)
		b.Identities = append(b.Identities, ids...)
	}
	return b
}
