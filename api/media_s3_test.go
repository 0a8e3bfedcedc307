package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
)

// TestMediaOnS3 runs the media routes on an S3-compatible store: gofakes3, an S3 server in
// this process on a loopback port, reached through s3blob as a real deployment's MEDIA_STORE
// would be (path-style, an endpoint, a region, keys from the environment).
func TestMediaOnS3(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	store := "s3://media?region=us-east-1&endpoint=" + s3.URL + "&use_path_style=true"

	e := apitest.New(t, func(c *config.Config) { c.MediaStore = store; c.MediaMaxBytes = 4 << 20 })
	w := e.NewWorkspace(t, "S3")
	data := make([]byte, 3<<20) // more than one upload part of the S3 writer (1 MiB)
	_, _ = rand.Read(data)
	m := upload(t, e, w.APIKey, "big.bin", data)
	if m.Size != int64(len(data)) || m.SHA256 != hexSHA(data) {
		t.Fatalf("uploaded %+v", m)
	}
	r := e.Get(t, "/v1/media/"+m.ID, w.APIKey).Expect(t, http.StatusOK)
	if !bytes.Equal(r.Body, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(r.Body), len(data))
	}
	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/media/" + m.ID, Token: w.APIKey,
		Header: map[string]string{"Range": "bytes=1048570-1048585"}}).Expect(t, http.StatusPartialContent)
	if !bytes.Equal(r.Body, data[1048570:1048586]) {
		t.Fatalf("range read %x, want %x", r.Body, data[1048570:1048586])
	}
	again := upload(t, e, w.APIKey, "again.bin", data)
	if again.ID == m.ID || again.SHA256 != m.SHA256 {
		t.Fatalf("second upload %+v", again)
	}
	over := make([]byte, 4<<20+1)
	body, ct := apitest.Multipart("file", "over.bin", over)
	e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/media", Token: w.APIKey, Body: bytes.NewReader(body),
		Header: map[string]string{"Content-Type": ct}}).ExpectProblem(t, http.StatusRequestEntityTooLarge, "media_too_large")

	// One object for the two uploads of the same bytes, and no temporary upload left behind.
	bucket, err := blob.OpenBucket(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	var keys []string
	it := bucket.List(nil)
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
	if want := w.ID + "/" + m.SHA256; len(keys) != 1 || keys[0] != want {
		t.Fatalf("bucket holds %q, want only %q", keys, want)
	}
}
