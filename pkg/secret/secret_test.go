package secret

import (
	"bytes"
	"errors"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpen(t *testing.T) {
	box, err := New(key(1))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(key(2))
	plain := []byte(`{"access_token":"EAAG..."}`)
	ad := []byte("workspace/channel")
	sealed, err := box.Seal(plain, ad)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := box.Seal(plain, ad)
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one plaintext are equal: the nonce is not random")
	}
	if bytes.Contains(sealed, []byte("EAAG")) {
		t.Error("sealed value contains the plaintext")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	cases := []struct {
		name   string
		box    *Box
		sealed []byte
		ad     []byte
		want   []byte
		err    error
	}{
		{"round trip", box, sealed, ad, plain, nil},
		{"other key", other, sealed, ad, nil, ErrOpen},
		{"other row", box, sealed, []byte("workspace/other"), nil, ErrOpen},
		{"tampered", box, tampered, ad, nil, ErrOpen},
		{"truncated", box, sealed[:10], ad, nil, ErrOpen},
		{"no key", nil, sealed, ad, nil, ErrNoKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.box.Open(tc.sealed, tc.ad)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		name       string
		key        []byte
		configured bool
		fails      bool
	}{
		{"empty means unconfigured", nil, false, false},
		{"32 bytes", key(7), true, false},
		{"16 bytes refused", key(7)[:16], false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(tc.key)
			if (err != nil) != tc.fails {
				t.Fatalf("err = %v, fails = %v", err, tc.fails)
			}
			if b.Configured() != tc.configured {
				t.Errorf("Configured() = %v, want %v", b.Configured(), tc.configured)
			}
			if !tc.configured {
				if _, err := b.Seal([]byte("x"), nil); !errors.Is(err, ErrNoKey) {
					t.Errorf("Seal without key: err = %v, want ErrNoKey", err)
				}
			}
		})
	}
}
