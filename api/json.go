package api

import (
	"bytes"
	"strconv"
	"sync"

	gojson "github.com/goccy/go-json"
	"github.com/labstack/echo/v4"
)

// maxPooledBuffer is the largest buffer put back in the pool: a rare huge answer should not
// keep its memory for good.
const maxPooledBuffer = 256 << 10

// jsonSerializer writes answers as echo's serializer does, byte for byte (encoding/json's
// Encoder: HTML-escaped, sorted map keys, a trailing newline), for less CPU:
//
//   - github.com/goccy/go-json encodes: it compiles an encoder per type once and writes
//     without reflection, about a quarter of encoding/json's time and one allocation for an
//     inbox page (encoding/json's reflection was the largest single share of the inbox's CPU).
//     TestJSONSerializerMatchesEncodingJSON holds it to encoding/json's bytes.
//   - The answer goes into a pooled buffer first and out in one write with its
//     Content-Length. Encoded straight onto the response, an answer larger than net/http's
//     2 KiB buffer (an inbox page is about 20 KiB) went out in chunked transfer encoding, a
//     write system call every few kilobytes.
//
// Request bodies are decoded by echo's own serializer (encoding/json), so bind errors keep
// their wording.
type jsonSerializer struct {
	echo.DefaultJSONSerializer
	buffers sync.Pool
}

func newJSONSerializer() *jsonSerializer {
	return &jsonSerializer{buffers: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// Serialize encodes i and writes it with its Content-Length.
func (s *jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	buf := s.buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			s.buffers.Put(buf)
		}
	}()
	enc := gojson.NewEncoder(buf)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(i); err != nil {
		return err
	}
	r := c.Response()
	r.Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	_, err := r.Write(buf.Bytes())
	return err
}
