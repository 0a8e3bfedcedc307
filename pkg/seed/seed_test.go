package seed

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/phone"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/workspace"
)

func plan(agents int) Plan {
	p := Plan{Workspace: uuid.New(), Channels: map[rules.ChannelType]uuid.UUID{}, MessagesPerContact: 4,
		ClosedShare: 0.4, AssignedShare: 0.75, Now: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC), Seed: 42, Offset: 1_000}
	for _, t := range rules.Types() {
		p.Channels[t] = uuid.New()
	}
	for range agents {
		p.Agents = append(p.Agents, uuid.New())
	}
	return p
}

// TestGeneratedDataIsValid checks that what the seed makes is what the API would accept and
// store: normalised, unique where the schema says so, and consistent.
func TestGeneratedDataIsValid(t *testing.T) {
	p := plan(4)
	g, err := NewGenerator(p)
	if err != nil {
		t.Fatal(err)
	}
	b := g.Batch(0, 4000)
	emails, phones, idents := map[string]bool{}, map[string]bool{}, map[string]bool{}
	scripts := map[string]bool{}
	for _, c := range b.Contacts {
		if c.Email != nil {
			if e, ok := workspace.NormalizeEmail(*c.Email); !ok || e != *c.Email || emails[e] {
				t.Fatalf("email %q invalid, not normalised or repeated", *c.Email)
			}
			emails[*c.Email] = true
		}
		if c.Phone != nil {
			if n, err := phone.Normalize(*c.Phone, "US"); err != nil || n != *c.Phone || phones[n] {
				t.Fatalf("phone %q: %v (normalised %q, repeated %v)", *c.Phone, err, n, phones[n])
			}
			phones[*c.Phone] = true
		}
		for _, r := range c.FirstName {
			switch {
			case r >= 0x0400 && r <= 0x04FF:
				scripts["cyrillic"] = true
			case r >= 0x0600 && r <= 0x06FF:
				scripts["arabic"] = true
			case r >= 0x4E00 && r <= 0x9FFF:
				scripts["han"] = true
			case r >= 0x0900 && r <= 0x097F:
				scripts["devanagari"] = true
			case r < 0x80:
				scripts["latin"] = true
			}
		}
		if c.CreatedAt.After(p.Now) || c.CreatedAt.Before(p.Now.Add(-91*24*time.Hour)) {
			t.Fatalf("created_at %v outside the last 90 days", c.CreatedAt)
		}
	}
	if len(scripts) < 5 {
		t.Errorf("names in only %v", scripts)
	}
	types := map[rules.ChannelType]int{}
	for _, x := range b.Identities {
		key := x.ChannelID.String() + "/" + x.Identifier
		if idents[key] {
			t.Fatalf("identifier %s repeated on %s", x.Identifier, x.ChannelType)
		}
		idents[key] = true
		if n, err := channel.NormalizeIdentifier(x.ChannelType, x.Identifier, "US"); err != nil || n != x.Identifier {
			t.Fatalf("identifier %q on %s: %v (normalised %q)", x.Identifier, x.ChannelType, err, n)
		}
		types[x.ChannelType]++
	}
	if len(types) != len(rules.Types()) {
		t.Errorf("identities on %d of %d types: %v", len(types), len(rules.Types()), types)
	}
	if len(b.Messages) != 4*len(b.Contacts) {
		t.Fatalf("%d messages for %d contacts", len(b.Messages), len(b.Contacts))
	}
	closed, assigned := 0, 0
	byConv := map[uuid.UUID][]conversation.Message{}
	for _, m := range b.Messages {
		byConv[m.ConversationID] = append(byConv[m.ConversationID], m)
	}
	for _, v := range b.Conversations {
		if v.Status == conversation.StatusClosed {
			closed++
			if v.ClosingNote == nil || v.ClosedAt == nil || v.ClosedAt.Before(v.LastMessageAt) {
				t.Fatalf("closed conversation without a proper note: %+v", v)
			}
		}
		if v.AssigneeID != nil {
			assigned++
		}
		ms := byConv[v.ID]
		for i := 1; i < len(ms); i++ {
			if ms[i].CreatedAt.Before(ms[i-1].CreatedAt) || ms[i].CreatedAt.After(p.Now) {
				t.Fatalf("thread out of order or in the future: %v then %v", ms[i-1].CreatedAt, ms[i].CreatedAt)
			}
		}
		if ms[0].Direction != conversation.Incoming || v.LastMessage == nil || v.LastMessage.ID != ms[len(ms)-1].ID {
			t.Fatalf("thread does not start with the customer or last message is wrong: %+v", v.LastMessage)
		}
	}
	share := func(n int) float64 { return float64(n) / float64(len(b.Conversations)) }
	if math.Abs(share(closed)-0.4) > 0.05 || math.Abs(share(assigned)-0.75) > 0.05 {
		t.Errorf("closed %.2f, assigned %.2f; want about 0.40 and 0.75", share(closed), share(assigned))
	}
	// The same plan and seed give the same data; another offset gives other addresses.
	again := g.Batch(0, 10)
	if again.Contacts[3].FirstName != b.Contacts[3].FirstName || *again.Contacts[3].Email != *b.Contacts[3].Email {
		t.Errorf("not reproducible: %+v vs %+v", again.Contacts[3], b.Contacts[3])
	}
	p.Offset += 4000
	g2, _ := NewGenerator(p)
	for _, c := range g2.Batch(0, 4000).Contacts {
		if (c.Email != nil && emails[*c.Email]) || (c.Phone != nil && phones[*c.Phone]) {
			t.Fatalf("a second run repeats %v / %v", c.Email, c.Phone)
		}
	}
}

func TestGeneratedDataWithoutAgents(t *testing.T) {
	g, _ := NewGenerator(plan(0))
	b := g.Batch(0, 200)
	for _, m := range b.Messages {
		if m.Direction != conversation.Incoming {
			t.Fatalf("an outgoing message without agents: %+v", m)
		}
	}
	for _, v := range b.Conversations {
		if v.AssigneeID != nil {
			t.Fatalf("assigned without agents: %+v", v)
		}
	}
}

func TestPermuteIsABijection(t *testing.T) {
	for _, span := range []int64{8_000_000, 10_000_000} {
		seen := make(map[int64]bool, 200_000)
		for k := int64(0); k < 200_000; k++ {
			v := permute(k, span)
			if v < 0 || v >= span || seen[v] {
				t.Fatalf("span %d: permute(%d) = %d repeats or is out of range", span, k, v)
			}
			seen[v] = true
		}
	}
}

// TestEveryLocaleMakesPossibleNumbers checks each region's plan, prefix by prefix.
func TestEveryLocaleMakesPossibleNumbers(t *testing.T) {
	for _, l := range locales {
		t.Run(l.country, func(t *testing.T) {
			for k := int64(0); k < int64(len(l.phone.prefixes))*3; k++ {
				n := l.phone.number(k + 9_999)
				if got, err := phone.Normalize(n, l.country); err != nil || got != n {
					t.Fatalf("%s: %q normalises to %q, %v", l.country, n, got, err)
				}
			}
		})
	}
}
