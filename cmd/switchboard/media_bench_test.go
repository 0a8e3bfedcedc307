package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/pkg/store/storetest"
)

// mediaFileSize is the file the memory benchmark moves: MEDIA_MAX_BYTES's default, 25 MiB.
const mediaFileSize = 25 << 20

// mediaRSSBound is issue 15's bound on the server's memory growth while it takes and serves
// such a file: the file is streamed, never held.
const mediaRSSBound = 10 << 20

// BenchmarkMediaMemory measures how much the memory of a real `switchboard serve` process grows
// while it takes a 25 MiB upload and serves it back whole and as a range: issue 15 asks for
// less than 10 MiB, which only streaming both ways can keep. The server is a process of its
// own, so its RSS is its alone. Before each round the kernel's peak RSS (VmHWM) is reset to
// the current RSS (clear_refs); after the round, peak minus the RSS before it is the growth.
// Each round sends new random bytes (no dedupe shortcut) generated as they are sent. It fails
// above the bound: a bound on memory, not a timing. Run it with make bench-media.
func BenchmarkMediaMemory(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "switchboard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DATABASE_URL=" + storetest.URL(b),
		"MEDIA_STORE=file://" + filepath.Join(dir, "media")}
	boot := exec.Command(bin, "bootstrap", "--workspace", "Bench", "--email", "bench@example.com", "--password", "a long passphrase")
	boot.Env = env
	out, err := boot.Output()
	if err != nil {
		b.Fatalf("bootstrap: %v", err)
	}
	var creds struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &creds); err != nil || creds.APIKey == "" {
		b.Fatalf("bootstrap answered %s (%v)", out, err)
	}
	secret := make([]byte, 48)
	for i := range secret {
		secret[i] = byte(i)
	}
	api, logs, pid := startServerProcess(b, bin, append(env, "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn", "DELIVERY_WORKERS=0",
		"JWT_SECRET="+base64.StdEncoding.EncodeToString(secret)))
	c := &mediaClient{api: api, key: creds.APIKey}

	// A first small round loads what any first request loads (code pages, pools, the sniffer's
	// tables), so that it is not counted as the file's.
	if _, err := c.roundTrip(1, 64<<10); err != nil {
		b.Fatalf("warm-up: %v\n%s", err, logs.String())
	}
	var worst int64
	b.ResetTimer()
	for i := range b.N {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			b.Fatalf("reset the peak RSS (needs Linux ≥ 4.0 and the right to the process): %v", err)
		}
		before := procStatus(b, pid, "VmRSS")
		if _, err := c.roundTrip(uint64(i+2), mediaFileSize); err != nil {
			b.Fatalf("round %d: %v\n%s", i, err, logs.String())
		}
		peak := procStatus(b, pid, "VmHWM")
		growth := peak - before
		worst = max(worst, growth)
		b.Logf("round %d: VmRSS before %.1f MiB, peak during %.1f MiB: growth %.2f MiB", i, mib(before), mib(peak), mib(growth))
	}
	b.StopTimer()
	b.ReportMetric(mib(worst), "MiB-peak-RSS-growth")
	b.ReportMetric(0, "ns/op") // the time is not what this measures
	if worst > mediaRSSBound {
		b.Fatalf("the server's RSS grew by %.2f MiB moving a %d MiB file, over the %d MiB bound: something buffers it",
			mib(worst), mediaFileSize>>20, mediaRSSBound>>20)
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// procStatus reads a size field (kB) of /proc/<pid>/status, in bytes.
func procStatus(b *testing.B, pid int, field string) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("%s: %q", field, line)
			}
			return kb << 10
		}
	}
	b.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

type mediaClient struct{ api, key string }

// roundTrip uploads size random bytes (drawn from seed as they are sent, and hashed on the way),
// downloads them whole and a 5 MiB range of them, and checks both against the hash.
func (c *mediaClient) roundTrip(seed uint64, size int64) (string, error) {
	src := io.LimitReader(rand.NewChaCha8(seedOf(seed)), size)
	sent := sha256.New()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", "bench.bin")
		if err == nil {
			_, err = io.Copy(io.MultiWriter(part, sent), src)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(http.MethodPost, c.api+"/v1/media", pr)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var m struct {
		ID     string `json:"id"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	if err := c.do(req, http.StatusCreated, func(r io.Reader) error { return json.NewDecoder(r).Decode(&m) }); err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	if want := hex.EncodeToString(sent.Sum(nil)); m.SHA256 != want || m.Size != size {
		return "", fmt.Errorf("upload stored %d bytes with sha256 %s, sent %d with %s", m.Size, m.SHA256, size, want)
	}
	got := sha256.New()
	req, _ = http.NewRequest(http.MethodGet, c.api+"/v1/media/"+m.ID, nil)
	if err := c.do(req, http.StatusOK, func(r io.Reader) error { _, err := io.Copy(got, r); return err }); err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	if hex.EncodeToString(got.Sum(nil)) != m.SHA256 {
		return "", fmt.Errorf("the download differs from the upload")
	}
	from, to := size/3, min(size/3+5<<20, size)-1
	var n int64
	req, _ = http.NewRequest(http.MethodGet, c.api+"/v1/media/"+m.ID, nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to))
	if err := c.do(req, http.StatusPartialContent, func(r io.Reader) error { n, err = io.Copy(io.Discard, r); return err }); err != nil {
		return "", fmt.Errorf("range: %w", err)
	}
	if n != to-from+1 {
		return "", fmt.Errorf("range answered %d bytes, want %d", n, to-from+1)
	}
	return m.ID, nil
}

func (c *mediaClient) do(req *http.Request, want int, read func(io.Reader) error) error {
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("status %d, want %d: %s", resp.StatusCode, want, bytes.TrimSpace(body))
	}
	return read(resp.Body)
}

func seedOf(n uint64) [32]byte {
	var s [32]byte
	copy(s[:], strconv.FormatUint(n, 10))
	return s
}
