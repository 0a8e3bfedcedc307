package main

// The README test runs README.md's shell blocks as a reader pastes them into one terminal, on a
// fresh server started the way `make run` starts one. The convention it enforces (README.md,
// "Tests", says the same):
//
//   - Every fence names its language. ```sh blocks are run, in README order, by one bash process
//     with `set -euo pipefail`, so variables and functions carry over from block to block as in
//     a terminal. ```console and ```text blocks are shown, never run (commands with their
//     output, listings); ```json, ```js and ```go are code in other languages. Any other fence
//     (```bash, ```shell, a bare ```) fails the test, so nothing that looks runnable is skipped.
//   - A line `# expected: TEXT` (at the start of the line, inside a sh block) states one line
//     of what the commands above it printed on stdout: consecutive `# expected:` lines state
//     everything printed since the block began or since the previous `# expected:` lines, line
//     for line (trailing spaces and trailing empty lines aside). Any other spelling of an
//     expectation (indented, `#expected`) fails the test rather than go unchecked.
//   - The blocks run in a directory like a checkout after `make run`: bin/switchboard (built
//     by this test), .data/demo.json (the demo workspace's credentials, written as make run
//     writes them), with API naming the server, DATABASE_URL its database, and HOME an empty
//     directory (no ~/.curlrc). The server is `switchboard serve` on a fresh database (`migrate
//     up`, `bootstrap`), on 127.0.0.1 with a free port and WEBHOOK_ALLOW_LOOPBACK=true, as the
//     tour asks of make run.
//   - The whole README runs twice against the same server: every block must be re-runnable.
//
// A failure names the README line: the command that exited non-zero, or the expectation that
// did not match, with what was printed.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/store/storetest"
)

// expectPrefix starts an expectation line in a sh block.
const expectPrefix = "# expected: "

// fenceKinds are the fence languages README may use: true for the ones that run.
var fenceKinds = map[string]bool{"sh": true, "console": false, "text": false, "json": false, "js": false, "go": false}

// shellPrelude is what bash reads first (BASH_ENV) and keeps for the script. The script keeps
// every README line on the same line number, so bash's own messages ("line 57: X: unbound
// variable") and $LINENO name README lines.
const shellPrelude = `unset BASH_ENV
set -euo pipefail
__out=$(mktemp); trap 'rm -f "$__out"' EXIT
# On a failure, what the segment printed so far (its stdout is $__out), then the README line.
trap '__s=$?; cat "$__out" >&2; echo "README.md:$LINENO: exit status $__s from: $BASH_COMMAND" >&2' ERR
__ran=""
# __check LINE EXPECTED...: what the segment printed (already in $__out) must be EXPECTED.
__check() {
	local line=$1; shift
	cat "$__out"
	local got want
	got=$(sed -e 's/[[:space:]]*$//' "$__out")
	want=$(printf '%s\n' "$@")
	if [[ "$got" != "$want" ]]; then
		printf 'README.md:%s: the commands above printed\n%s\nbut # expected: says\n%s\n' "$line" "$got" "$want" >&2
		exit 1
	fi
}
`

// readmeScript turns README text into one bash script that runs its sh blocks in order and
// checks their expectations, and returns the blocks' first lines (1-based). It fails on
// anything the convention does not allow.
func readmeScript(readme string) (string, []int, error) {
	lines := strings.Split(strings.TrimSuffix(readme, "\n"), "\n")
	out := make([]string, len(lines))
	var blocks []int
	var errs []string
	fail := func(i int, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("README.md:%d: ", i+1)+fmt.Sprintf(format, args...))
	}
	isCommand := func(l string) bool {
		t := strings.TrimSpace(l)
		return t != "" && !strings.HasPrefix(t, "#")
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimLeft(l, " \t")
		if !strings.HasPrefix(t, "```") && !strings.HasPrefix(t, "~~~") {
			continue
		}
		if t != l || strings.HasPrefix(t, "~~~") {
			fail(i, "fences start at the line's start with ```")
			continue
		}
		lang := strings.TrimSpace(strings.TrimPrefix(l, "```"))
		run, known := fenceKinds[lang]
		if !known {
			fail(i, "fence %q: use ```sh for commands the README test runs, ```console or ```text for what is only shown", l)
		}
		end := i + 1
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if end == len(lines) {
			fail(i, "unclosed fence")
			break
		}
		if !run {
			i = end
			continue
		}
		blocks = append(blocks, i+1)
		// The block is one or more segments, each a { ... } group whose stdout goes to $__out;
		// a run of expectations closes one and checks it.
		out[i] = fmt.Sprintf(`echo "# README.md:%d" >&2; {`, i+1)
		open, commands := true, 0
		for j := i + 1; j < end; j++ {
			line := lines[j]
			if !strings.HasPrefix(line, expectPrefix) {
				if strings.Contains(strings.ReplaceAll(strings.TrimSpace(line), " ", ""), "#expected") {
					fail(j, "an expectation is a line starting with %q", expectPrefix)
				}
				out[j] = line
				if isCommand(line) {
					commands++
				}
				continue
			}
			// A run of expectations: j .. k-1.
			k := j
			var want []string
			for k < end && strings.HasPrefix(lines[k], expectPrefix) {
				want = append(want, strings.TrimRight(strings.TrimPrefix(lines[k], expectPrefix), " \t"))
				k++
			}
			if commands == 0 {
				fail(j, "an expectation needs a command above it in its block")
			}
			quoted := make([]string, len(want))
			for n, w := range want {
				quoted[n] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
			}
			out[j] = fmt.Sprintf(`} >"$__out"; __check %d %s`, j+1, strings.Join(quoted, " "))
			open, commands = false, 0
			if slices.ContainsFunc(lines[k:end], isCommand) {
				if out[k-1] == "" {
					out[k-1] = "{"
				} else {
					out[k-1] += "; {"
				}
				open = true
			}
			j = k - 1
		}
		if open && commands == 0 {
			fail(i, "a sh block needs a command")
		}
		out[end] = fmt.Sprintf(`__ran+=" %d"`, i+1)
		if open {
			out[end] = `} >"$__out"; cat "$__out"; ` + out[end]
		}
		i = end
	}
	if len(errs) > 0 {
		return "", nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	script := strings.Join(out, "\n") + "\necho \"README blocks run:$__ran\"\n"
	return script, blocks, nil
}

// runReadmeScript runs script with bash in dir and returns what it printed (stdout and
// stderr together); it fails unless bash succeeded and every block ran to its end.
func runReadmeScript(ctx context.Context, script, dir string, env []string, blocks []int) (string, error) {
	// The script is named README.md so that bash's messages read "…/README.md: line 57: …".
	tmp, err := os.MkdirTemp("", "readme-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	path, prelude := filepath.Join(tmp, "README.md"), filepath.Join(tmp, "prelude.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(prelude, []byte(shellPrelude), 0o600); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", path)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, append(slices.Clone(env), "BASH_ENV="+prelude), &buf, &buf
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	out := buf.String()
	if err != nil {
		return out, fmt.Errorf("bash: %w", err)
	}
	want := "README blocks run:"
	for _, b := range blocks {
		want += fmt.Sprintf(" %d", b)
	}
	if !strings.Contains(out, want+"\n") {
		return out, fmt.Errorf("not every sh block ran to its end: want %q", want)
	}
	return out, nil
}

func requireTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: README's tour needs it (make test installs curl and jq: apt-get install curl jq)", tool)
		}
	}
}

// TestReadmeConvention: the script fails where the README would mislead a reader, and passes
// where it would not. It needs bash only.
func TestReadmeConvention(t *testing.T) {
	requireTools(t)
	run := func(md string) (string, error) {
		script, blocks, err := readmeScript(md)
		if err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return runReadmeScript(ctx, script, t.TempDir(), []string{"PATH=" + os.Getenv("PATH")}, blocks)
	}
	for _, c := range []struct {
		name, md, fails string // fails: "" passes, else a text the error or output holds
	}{
		{"variables carry over", "# t\n```sh\nX=1\n```\ntext\n```sh\necho $X\n# expected: 1\n```\n", ""},
		{"several lines, and output after the last expectation", "```sh\nprintf 'a \\nb\\n'\n# expected: a\n# expected: b\necho free\n```\n", ""},
		{"a command fails", "# t\n```sh\necho ok\nfalse\necho never\n```\n", "README.md:4: exit status 1"},
		{"a pipeline fails", "# t\n```sh\nfalse | cat\n```\n", "README.md:3: exit status 1"},
		{"an unset variable", "# t\n```sh\necho $UNSET_X\n```\n", "UNSET_X: unbound variable"},
		{"a later block fails", "# t\n```sh\necho 1\n```\n```sh\nexit 3\n```\n", "exit status 3"},
		{"a block exits early", "# t\n```sh\nexit 0\n```\n```sh\necho 2\n```\n", "not every sh block ran"},
		{"output differs", "# t\n```sh\necho '[1]'\n# expected: []\n```\n", "README.md:4: the commands above printed\n[1]"},
		{"more output than expected", "# t\n```sh\necho a; echo b\n# expected: b\n```\n", "the commands above printed"},
		{"less output than expected", "# t\n```sh\necho a\n# expected: a\n# expected: b\n```\n", "the commands above printed"},
		{"quotes in the expectation", "```sh\necho \"it's \\\"x\\\"\"\n# expected: it's \"x\"\n```\n", ""},
		{"an indented expectation", "```sh\necho a\n  # expected: b\n```\n", "README.md:3: an expectation is a line"},
		{"a misspelt expectation", "```sh\necho a\n#expected: b\n```\n", "an expectation is a line"},
		{"an expectation without a command", "```sh\n# expected: \n```\n", "needs a command above it"},
		{"a bash fence", "```bash\necho a\n```\n", "fence \"```bash\""},
		{"a bare fence", "```\necho a\n```\n", "fence \"```\""},
		{"an indented fence", "- x\n  ```sh\n  echo a\n  ```\n", "fences start at the line's start"},
		{"console and text are not run", "```console\n$ false\n```\n```text\nfalse\n```\n```sh\necho a\n```\n", ""},
	} {
		out, err := run(c.md)
		switch {
		case c.fails == "" && err != nil:
			t.Errorf("%s: %v\n%s", c.name, err, out)
		case c.fails != "" && err == nil:
			t.Errorf("%s: passed, want a failure with %q\n%s", c.name, c.fails, out)
		case c.fails != "" && !strings.Contains(err.Error()+"\n"+out, c.fails):
			t.Errorf("%s: failed without %q: %v\n%s", c.name, c.fails, err, out)
		}
	}
}

// TestReadme runs every sh block of README.md, twice, against a fresh server.
func TestReadme(t *testing.T) {
	requireTools(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, blocks, err := readmeScript(string(readme))
	if err != nil {
		t.Fatalf("README.md breaks the README test's convention (see readme_test.go):\n%v", err)
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no sh block")
	}

	// A directory like a checkout after make run: bin/switchboard and .data/demo.json.
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "switchboard")
	// go test puts its own go first on PATH.
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL := emptyDatabase(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DATABASE_URL=" + dbURL,
		"MEDIA_STORE=file://" + filepath.Join(dir, ".data", "media")}
	runBin := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("switchboard %s: %v\n%s", args[0], err, stderr.String())
		}
		return out
	}
	runBin("migrate", "up")
	// As make run: bootstrap's answer with the owner's email and password, in .data/demo.json.
	const email = "demo@switchboard.local"
	password := randomText(18)
	var demo map[string]string
	if err := json.Unmarshal(runBin("bootstrap", "--workspace", "Demo", "--email", email, "--name", "Demo Owner", "--password", password), &demo); err != nil {
		t.Fatal(err)
	}
	demo["email"], demo["password"] = email, password
	b, _ := json.Marshal(demo)
	if err := os.MkdirAll(filepath.Join(dir, ".data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".data", "demo.json"), append(b, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}

	api, logs := startServer(t, bin, append(slices.Clone(env), "HTTP_ADDR=127.0.0.1:0", "JWT_SECRET="+randomText(48),
		"SECRETS_KEY="+base64.StdEncoding.EncodeToString(randomBytes(32)), "WEBHOOK_ALLOW_LOOPBACK=true",
		"LOG_LEVEL=info", "SHUTDOWN_TIMEOUT=5s"))
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		out, err := runReadmeScript(ctx, script, dir, append(slices.Clone(env), "API="+api), blocks)
		cancel()
		if err != nil {
			t.Fatalf("README run %d: %v\n%s\nserver log (tail):\n%s", run, err, out, tail(logs.String(), 60))
		}
		t.Logf("README run %d: %d sh blocks ran", run, len(blocks))
	}
}

// TestReadmeConfiguration: README's configuration table lists every variable config.Load
// reads, with its default.
func TestReadmeConfiguration(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Configuration\n")
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| ([^|]*) \\|")
	got := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		got[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	for _, v := range config.Vars {
		def, ok := got[v.Name]
		want := v.Default
		if want == "" {
			want = "—"
		}
		switch {
		case !ok:
			t.Errorf("README's configuration table lacks %s", v.Name)
		case def != want:
			t.Errorf("README gives %s the default %q, config.Vars %q", v.Name, def, want)
		}
		delete(got, v.Name)
	}
	for name := range got {
		t.Errorf("README's configuration table lists %s, which config.Load does not read", name)
	}
}

// startServer runs `switchboard serve --print-url` until the test ends and returns the URL it
// printed and its log.
func startServer(t *testing.T, bin string, env []string) (string, *syncBuffer) {
	t.Helper()
	api, logs, _ := startServerProcess(t, bin, env)
	return api, logs
}

// startServerProcess is startServer that also answers the server's process id (a benchmark
// reads its memory from /proc).
func startServerProcess(t testing.TB, bin string, env []string) (string, *syncBuffer, int) {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--print-url")
	cmd.Env, cmd.Stderr = env, logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		line <- l
		_, _ = io.Copy(logs, r)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("switchboard serve: %v\n%s", err, tail(logs.String(), 40))
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("switchboard serve did not stop within 30 s of SIGTERM")
		}
	})
	select {
	case l := <-line:
		api, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "API: "), "  docs: ")
		if !ok || !strings.HasPrefix(api, "http://127.0.0.1:") {
			t.Fatalf("serve printed %q\n%s", l, logs.String())
		}
		return api, logs, cmd.Process.Pid
	case <-time.After(time.Minute):
		t.Fatalf("serve printed no URL within a minute\n%s", logs.String())
	}
	return "", nil, 0
}

// emptyDatabase creates an empty database (no migrations) on the test server and drops it
// when the test ends.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv(storetest.EnvURL)
	if admin == "" {
		t.Fatalf("%s is unset: run `make test`, or start PostgreSQL with `.ci/postgres start` and "+
			"export %s=$(.ci/postgres url postgres)", storetest.EnvURL, storetest.EnvURL)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := "sbreadme_" + hex.EncodeToString(randomBytes(6))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomText(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// syncBuffer is a bytes.Buffer safe for the server's two writers and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
