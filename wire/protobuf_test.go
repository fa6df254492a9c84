package wire

import (
	"bytes"
	"math"
	"testing"
)

func TestVarint(t *testing.T) {
	t.Parallel()
	for _, v := range []uint64{
		0, 1, 127, 128, 300, 1<<14 - 1, 1 << 14, 1<<21 - 1, 1 << 21, math.MaxUint32,
		1<<35 - 1, 1 << 35, 1<<49 - 1, 1 << 56, 1<<63 - 1, 1 << 63, math.MaxUint64,
	} {
		b := appendVarint([]byte{0xEE}, v)[1:]
		if len(b) != varintLen(v) {
			t.Errorf("varint of %d has %d bytes, varintLen says %d", v, len(b), varintLen(v))
		}
		got, n := consumeVarint(append(b, 0xFF))
		if got != v || n != len(b) {
			t.Errorf("consumeVarint(%x) = %d, %d; want %d, %d", b, got, n, v, len(b))
		}
	}
}

func TestConsumeVarintMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in []byte
		n  int
	}{
		{nil, varintTruncated},
		{[]byte{0x80}, varintTruncated},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, varintTruncated},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, varintOverflow},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, varintOverflow},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 10}, // overlong zero
	}
	for _, tc := range tests {
		if _, n := consumeVarint(tc.in); n != tc.n {
			t.Errorf("consumeVarint(%x) length %d, want %d", tc.in, n, tc.n)
		}
	}
}

// TestCloseMessage checks nested lengths that need one to four varint
// bytes, so that closeMessage shifts the nested message by 0 to 3 bytes.
func TestCloseMessage(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 1<<21 - 1, 1 << 21} {
		content := bytes.Repeat([]byte{0xAB}, n)
		b, pos := openMessage([]byte("head"), 7)
		b = append(b, content...)
		b = closeMessage(b, pos)

		want := appendTag([]byte("head"), 7, wireBytes)
		want = appendVarint(want, uint64(n))
		want = append(want, content...)
		if !bytes.Equal(b, want) {
			t.Errorf("nested message of %d bytes encodes wrongly", n)
		}
	}
}

func TestCountFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		payload []byte
		want    int
	}{
		{nil, 0},
		{[]byte{0x22, 0x00, 0x18, 0x01, 0x22, 0x00}, 2},
		{[]byte{0x22, 0x00, 0x22, 0x05}, 2},       // counts the tag, stops at the overrun
		{[]byte{0x22, 0x00, 0xa3, 0x01, 0x22}, 1}, // stops at a group
		{[]byte{0x22, 0x00, 0x80}, 1},             // stops at a bad tag
		{[]byte{0x25, 0x00, 0x00, 0x00, 0x00}, 1}, // counts tags, whatever their wire type
		{[]byte{0x22, 0x01, 0x00, 0x22, 0x00}, 2},
	}
	for _, tc := range tests {
		if got := countFields(tc.payload, 4); got != tc.want {
			t.Errorf("countFields(%x, 4) = %d, want %d", tc.payload, got, tc.want)
		}
	}
}
