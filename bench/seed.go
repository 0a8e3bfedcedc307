package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Seed methods. The harness seeds with `switchboard seed` when the binary has it, and else
// with the temporary SQL seed below; the method is part of the seed's identity, so a bench
// database seeded one way is seeded again when the other becomes available.
const (
	seedCommand   = "switchboard-seed"
	seedTemporary = "temporary-sql-contacts"
)

var hasSeedCommand = regexp.MustCompile(`(?m)^\s+seed\s`)

// seedMethod is seedCommand when `switchboard --help` lists the seed command.
func seedMethod(cfg config) string {
	out, _ := exec.Command(cfg.bin, "--help").CombinedOutput()
	if hasSeedCommand.Match(out) {
		return seedCommand
	}
	return seedTemporary
}

// seedWithCommand runs `switchboard seed`, which also creates the agents, and returns them
// with their password.
func seedWithCommand(ctx context.Context, cfg config, ws string, size seedSize) ([]member, string, error) {
	cmd := exec.CommandContext(ctx, cfg.bin, "seed", "--workspace", ws, "--contacts", strconv.Itoa(size.Contacts),
		"--messages-per-contact", strconv.Itoa(size.MessagesPerContact), "--agents", strconv.Itoa(size.Agents),
		"--seed", "42") // the same data on every machine
	cmd.Env = append(os.Environ(), "DATABASE_URL="+cfg.dbURL)
	cmd.Stderr = os.Stderr // its progress
	out, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("switchboard seed: %w", err)
	}
	var res struct {
		Agents        []member `json:"agents"`
		AgentPassword string   `json:"agent_password"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, "", fmt.Errorf("switchboard seed output: %w", err)
	}
	if len(res.Agents) == 0 || res.AgentPassword == "" {
		return nil, "", fmt.Errorf("switchboard seed printed no agents with a password: %s", out)
	}
	return res.Agents, res.AgentPassword, nil
}

// TEMPORARY SEED, used while `switchboard seed` (issue 4) is not on main: plain SQL loads
// contacts and their conversations, enough for the contact search scenarios, with no
// channels, identities or messages. Delete seedData and seedTemporary once the seed command
// has landed.

// Names and numbers are spread deterministically over i, so two seeds of one size are equal.
var (
	seedFirstNames = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
		"David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
		"Charles", "Karen", "Maria", "Jose", "Ana", "Luis", "Carmen", "Juan", "Sofia", "Mateo", "Lucia",
		"Pedro", "Fatima", "Mohammed", "Aisha", "Omar", "Yuki", "Hiroshi", "Mei", "Wei", "Priya", "Arjun",
		"Olga", "Ivan", "Anna", "Lukas", "Emma", "Noah", "Chloe", "Liam", "Zoe", "Ethan", "Ines", "Hugo",
		"Amara", "Kwame", "Nia", "Tariq", "Leila", "Dmitri", "Sven", "Freya"}
	seedLastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
		"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
		"Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
		"Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
		"Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
		"Mitchell", "Carter", "Roberts", "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker",
		"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Silva", "Santos", "Oliveira", "Souza",
		"Pereira", "Costa", "Dubois", "Lefebvre", "Moreau", "Laurent", "Fournier", "Kowalski", "Nowak",
		"Wisniewski", "Ivanov", "Smirnov", "Kuznetsov", "Popov", "Tanaka", "Suzuki", "Takahashi", "Watanabe",
		"Yamamoto", "Kim", "Park", "Choi", "Chen", "Wang", "Zhang", "Liu", "Singh", "Kumar", "Patel", "Shah",
		"Okafor", "Mensah", "Haddad", "Khalil", "Yilmaz", "Kaya", "Demir", "Jensen", "Nielsen", "Hansen",
		"Andersson", "Johansson", "Karlsson", "Virtanen", "Korhonen", "Papadopoulos", "Novak", "Horvat",
		"OConnor", "Murphy", "Kelly", "Byrne", "MacDonald", "Campos", "Vargas", "Castillo", "Jimenez"}
)

// seedBatch is how many contacts one statement inserts; progress is printed per batch.
const seedBatch = 50_000

// seedData inserts size.Contacts contacts with one conversation each: 40 % closed, 10 %
// unassigned (all open), the rest assigned round-robin to the agents. Ids are UUIDv7-shaped
// and follow created_at, spread over the last two years, as the API would have made them.
func seedData(ctx context.Context, pool *pgxpool.Pool, st state, size seedSize) error {
	agents := make([]string, len(st.Agents))
	for i, a := range st.Agents {
		agents[i] = a.ID
	}
	base := time.Now().UTC().Add(-2 * 365 * 24 * time.Hour).Truncate(time.Second)
	step := float64(2*365*24*time.Hour/time.Millisecond) / float64(size.Contacts)
	// v7 id from a millisecond timestamp and a per-row hash, variant bits 10xx.
	const v7 = `(lpad(to_hex(%[1]s), 12, '0') || '7' || substr(md5(%[2]s), 1, 3) || '8' || substr(md5(%[2]s), 4, 15))::uuid`
	ms := `(extract(epoch FROM $2::timestamptz) * 1000)::bigint + (i * $3::float8)::bigint`
	contactID := fmt.Sprintf(v7, ms, `'c' || i`)
	conversationID := fmt.Sprintf(v7, ms, `'v' || i`)
	at := `$2::timestamptz + make_interval(secs => i * $3::float8 / 1000)`
	contacts := `
INSERT INTO contacts (workspace_id, id, first_name, last_name, email, phone, language, country, created_at, updated_at)
SELECT $1, ` + contactID + `, f, l,
       lower(f || '.' || l || '.' || i || '@example.com'),
       '+1' || (2000000000 + (i::bigint * 7919) % 7999999999)::text,
       'en', 'US', ` + at + `, ` + at + `
FROM generate_series($4::int, $5::int) i,
     LATERAL (SELECT ($6::text[])[1 + (hashint4(i)::bigint + 2147483648) % cardinality($6::text[])] AS f,
                     ($7::text[])[1 + (hashint4(i + 7)::bigint + 2147483648) % cardinality($7::text[])] AS l) n`
	conversations := `
INSERT INTO conversations (workspace_id, id, contact_id, status, assignee_id, last_message_at, closed_at, created_at, updated_at)
SELECT $1, ` + conversationID + `, ` + contactID + `,
       CASE WHEN i % 5 < 2 THEN 'closed' ELSE 'open' END,
       CASE WHEN i % 10 = 9 THEN NULL ELSE ($6::uuid[])[1 + i % cardinality($6::uuid[])] END,
       ` + at + `, CASE WHEN i % 5 < 2 THEN ` + at + ` END, ` + at + `, ` + at + `
FROM generate_series($4::int, $5::int) i`
	logf("TEMPORARY SQL seed (until `switchboard seed` is on main): %d contacts with conversations", size.Contacts)
	start := time.Now()
	for from := 1; from <= size.Contacts; from += seedBatch {
		to := min(from+seedBatch-1, size.Contacts)
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, contacts, st.WorkspaceID, base, step, from, to, seedFirstNames, seedLastNames); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, conversations, st.WorkspaceID, base, step, from, to, agents)
			return err
		})
		if err != nil {
			return fmt.Errorf("seed contacts %d-%d: %w", from, to, err)
		}
		logf("seed: %d/%d contacts (%s)", to, size.Contacts, time.Since(start).Round(time.Second))
	}
	for _, t := range []string{"contacts", "conversations"} {
		if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) `+t); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	return nil
}

// seedNote describes the seed in the results.
func seedNote(method string) string {
	if method == seedTemporary {
		return "temporary SQL seed in bench/seed.go (contacts and conversations only; `switchboard seed` not on main yet)"
	}
	return "`switchboard seed --seed 42`"
}
