package restatetest

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"strings"
)

// idBytes is the length of a binary invocation id: an 8-byte partition key
// and a 16-byte UUID, as restate-server 1.7 sends in the start message.
const idBytes = 24

// base62 is the alphabet restate-server prints ids with.
const base62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newIDs returns the binary and the printable id of the n-th invocation of
// an environment seeded with seed. Keyed invocations share a partition key
// per service and key, as they do on the server; the rest is deterministic,
// so a test sees the same ids on every run.
func newIDs(seed, n uint64, service, key string) ([]byte, string) {
	bin := make([]byte, idBytes)
	pk := splitmix(seed ^ n)
	if key != "" {
		h := fnv.New64a()
		h.Write([]byte(service))
		h.Write([]byte{0})
		h.Write([]byte(key))
		pk = h.Sum64()
	}
	binary.BigEndian.PutUint64(bin[0:8], pk)
	binary.BigEndian.PutUint64(bin[8:16], splitmix(seed+2*n+1))
	binary.BigEndian.PutUint64(bin[16:24], n)
	var b strings.Builder
	b.WriteString("inv_1")
	appendBase62(&b, bin[0:8], 11)
	appendBase62(&b, bin[8:24], 22)
	return bin, b.String()
}

// appendBase62 writes the big-endian number v in base 62, padded with zeros
// to width digits.
func appendBase62(b *strings.Builder, v []byte, width int) {
	n := append([]byte(nil), v...)
	digits := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		rem := 0
		for j := range n {
			cur := rem<<8 | int(n[j])
			n[j] = byte(cur / 62)
			rem = cur % 62
		}
		digits[i] = base62[rem]
	}
	b.Write(digits)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// parseAwakeableID decodes an awakeable id, "sign_1" followed by base64url
// of the binary invocation id and the big-endian signal id, as
// replay.AwakeableID builds it. Padding is accepted.
func parseAwakeableID(id string) (bin []byte, signal uint32, err error) {
	bad := func(reason string) error { return fmt.Errorf("bad awakeable id '%s': %s", id, reason) }
	rest, ok := strings.CutPrefix(id, "sign_1")
	if !ok {
		return nil, 0, bad("id doesn't match the expected type")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil || len(b) != idBytes+4 {
		return nil, 0, bad("id doesn't match the expected type")
	}
	n := len(b) - 4
	return b[:n], binary.BigEndian.Uint32(b[n:]), nil
}

// checkInvocationID reports why id is not an invocation id as
// restate-server prints them ("inv_1" and 33 base62 digits: an 11-digit
// partition key and a 22-digit UUID), with the server's words.
func checkInvocationID(id string) error {
	rest, ok := strings.CutPrefix(id, "inv_")
	switch {
	case !ok:
		return errors.New("id doesn't match the expected type")
	case rest == "" || rest[0] != '1':
		return errors.New("unrecognized codec version")
	case len(rest) != 34:
		return errors.New("bad length")
	}
	if !fitsBase62(rest[1:12], 64) || !fitsBase62(rest[12:], 128) {
		return errors.New("base62 decode error")
	}
	return nil
}

// fitsBase62 reports whether s is a base62 number below 2^bits.
func fitsBase62(s string, bits int) bool {
	n := new(big.Int)
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base62, s[i])
		if d < 0 {
			return false
		}
		n.Mul(n, big.NewInt(62))
		n.Add(n, big.NewInt(int64(d)))
	}
	return n.BitLen() <= bits
}
