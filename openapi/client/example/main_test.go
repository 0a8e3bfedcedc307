package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/openapi/client"
)

// TestExample builds the example program and runs it, as a user would, against a real server:
// its walk must succeed and leave the thread it printed, and any unexpected answer must end it
// with exit status 1. The program decodes every answer into the generated client's types, so
// this also checks the committed client against what the server sends.
func TestExample(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Example")
	bin := filepath.Join(t.TempDir(), "example")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	stdout, stderr, err := runExample(t, bin, e.URL, w.APIKey)
	if err != nil {
		t.Fatalf("example: %v\n%s", err, stderr)
	}
	type outLine struct {
		Step     string          `json:"step"`
		Status   int             `json:"status"`
		Replayed bool            `json:"replayed"`
		Data     json.RawMessage `json:"data"`
	}
	var lines []outLine
	var steps []string
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l outLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
		steps = append(steps, l.Step)
	}
	want := []string{"channel", "contact", "inbound", "send", "send", "thread", "thread"}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v:\n%s", steps, want, stdout)
	}
	decode := func(i int, v any) {
		t.Helper()
		if err := json.Unmarshal(lines[i].Data, v); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	var ch client.Channel
	var ct client.Contact
	var in, sent, retried client.Message
	decode(0, &ch)
	decode(1, &ct)
	decode(2, &in)
	decode(3, &sent)
	decode(4, &retried)
	if ch.Provider != "sandbox" || lines[0].Status != http.StatusCreated || lines[1].Status != http.StatusCreated {
		t.Fatalf("channel %+v (%d), contact %d", ch, lines[0].Status, lines[1].Status)
	}
	if in.Direction != client.MessageDirectionIncoming || in.ContactID != ct.ID || in.ChannelID == nil || *in.ChannelID != ch.ID || in.Text != "Hello, where is my order?" {
		t.Fatalf("inbound %+v for contact %s on channel %s", in, ct.ID, ch.ID)
	}
	if sent.Direction != client.MessageDirectionOutgoing || sent.Status != client.MessageStatusQueued || sent.ConversationID != in.ConversationID ||
		lines[3].Replayed || !lines[4].Replayed || retried.ID != sent.ID {
		t.Fatalf("send %+v (replayed %t), retry %s (replayed %t)", sent, lines[3].Replayed, retried.ID, lines[4].Replayed)
	}
	var thread []string
	for _, l := range lines[5:] {
		var m client.Message
		if err := json.Unmarshal(l.Data, &m); err != nil {
			t.Fatal(err)
		}
		thread = append(thread, m.ID)
	}
	slices.Sort(thread)
	if !slices.Equal(thread, sorted(in.ID, sent.ID)) {
		t.Fatalf("thread %v, want the inbound %s and the reply %s", thread, in.ID, sent.ID)
	}
	// The server, asked directly (and checked against the spec by apitest), has that thread.
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	e.Get(t, "/v1/conversations/"+in.ConversationID+"/messages", w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
	var server []string
	for _, m := range page.Data {
		server = append(server, m.ID)
	}
	slices.Sort(server)
	if !slices.Equal(server, thread) {
		t.Fatalf("the server's thread %v, the example's %v", server, thread)
	}

	// Each unexpected answer ends the program with status 1 and says which step got it.
	readOnly := e.NewKey(t, w, "conversations:read")
	cases := []struct {
		name      string
		url, key  string
		args      []string
		wantError string
	}{
		{"a revoked or mistyped key (the flag wins over the environment)", e.URL, w.APIKey, []string{"-key", "sbk_not_a_key"}, "create channel: unexpected answer 401"},
		{"a key that may not create channels", e.URL, readOnly, nil, "create channel: unexpected answer 403"},
		{"no URL", "", w.APIKey, nil, "SWITCHBOARD_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := runExample(t, bin, tc.url, tc.key, tc.args...)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(stderr), tc.wantError) {
				t.Fatalf("err %v, stderr %q; want exit status 1 and %q", err, stderr, tc.wantError)
			}
		})
	}
}

// runExample runs the built program with SWITCHBOARD_URL and SWITCHBOARD_API_KEY set to url and
// key, and the args.
func runExample(t *testing.T, bin, url, key string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "SWITCHBOARD_URL="+url, "SWITCHBOARD_API_KEY="+key)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
