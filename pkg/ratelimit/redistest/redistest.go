// Package redistest runs a private redis-server for a test, as storetest gives each test a
// PostgreSQL database: on a free loopback port, in the test's temporary directory, stopped
// at the end. Nothing is shared with another test or a Redis the machine runs.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Server is one running redis-server.
type Server struct {
	// URL is redis://127.0.0.1:port/0, for REDIS_URL.
	URL  string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a redis-server for t (Debian's redis-server package; make test-tools installs
// it). A missing binary fails the test with how to install it, never skips it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed: run make test-tools (apt-get install -y redis-server)")
	}
	// A port the kernel just handed out and took back is free for the moment; redis-server
	// binds it at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	s := &Server{URL: "redis://" + addr + "/0", addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for !s.ping() {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer on %s within 10s:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// Stop ends the server (an outage, for a test that wants one) and waits until it has exited.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// ping reports whether the server answers PING, in Redis's plain protocol.
func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprint(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
