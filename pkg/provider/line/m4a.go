package line

import (
	"context"
	"encoding/binary"
	"errors"
	"io"

	"github.com/switchboard/switchboard/pkg/provider"
)

// maxBoxes bounds the boxes audioDuration looks through: a real file's moov is among its
// first few, and a malformed one must not keep it reading.
const maxBoxes = 64

// audioDuration is a stored M4A file's length in milliseconds, which LINE's audio message
// requires: the duration and time scale of its movie header (ISO/IEC 14496-12: moov/mvhd).
// Boxes before moov (mdat may come first) are skipped by seeking when the reader can, else by
// reading past them. ok is false when the file has no readable movie header.
func audioDuration(ctx context.Context, a provider.Attachment) (ms int64, ok bool) {
	if a.Open == nil {
		return 0, false
	}
	rc, err := a.Open(ctx)
	if err != nil {
		return 0, false
	}
	defer rc.Close()
	body, err := findBox(rc, "moov")
	if err != nil {
		return 0, false
	}
	mvhd, err := findBox(body, "mvhd")
	if err != nil {
		return 0, false
	}
	var head [4]byte // version and flags
	if _, err := io.ReadFull(mvhd, head[:]); err != nil {
		return 0, false
	}
	var scale uint32
	var duration uint64
	if head[0] == 1 {
		var v1 struct {
			Created, Modified uint64
			Scale             uint32
			Duration          uint64
		}
		err = binary.Read(mvhd, binary.BigEndian, &v1)
		scale, duration = v1.Scale, v1.Duration
	} else {
		var v0 struct{ Created, Modified, Scale, Duration uint32 }
		err = binary.Read(mvhd, binary.BigEndian, &v0)
		scale, duration = v0.Scale, uint64(v0.Duration)
	}
	if err != nil || scale == 0 || duration == 0 || duration > 1<<40 {
		return 0, false
	}
	return int64(duration * 1000 / uint64(scale)), true
}

var errNoBox = errors.New("box not found")

// findBox reads boxes from r until one of type typ, and answers a reader of its body.
func findBox(r io.Reader, typ string) (io.Reader, error) {
	for range maxBoxes {
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, err
		}
		size, header := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
		switch size {
		case 0: // to the end
			if string(h[4:]) == typ {
				return r, nil
			}
			return nil, errNoBox
		case 1: // a 64-bit size follows
			var big [8]byte
			if _, err := io.ReadFull(r, big[:]); err != nil {
				return nil, err
			}
			size, header = int64(binary.BigEndian.Uint64(big[:])), 16
		}
		if size < header {
			return nil, errNoBox
		}
		if string(h[4:]) == typ {
			return io.LimitReader(r, size-header), nil
		}
		if err := skip(r, size-header); err != nil {
			return nil, err
		}
	}
	return nil, errNoBox
}

// skip moves past n bytes: a seek for a reader that can (a ranged read of the blob store),
// reading them otherwise.
func skip(r io.Reader, n int64) error {
	if s, ok := r.(io.Seeker); ok {
		_, err := s.Seek(n, io.SeekCurrent)
		return err
	}
	_, err := io.CopyN(io.Discard, r, n)
	return err
}
