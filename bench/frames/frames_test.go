package frames

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestGreeterExample checks the encoder against the worked greeter example
// of the protocol specification (§12).
func TestGreeterExample(t *testing.T) {
	id, _ := hex.DecodeString("000000000000002a0196f1c2a3b4c5d6e7f8091a2b3c4d5e")
	b := AppendStart(nil, Start{
		ID: id, DebugID: "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz",
		KnownEntries: 1, PartialState: true, RandomSeed: 0x0123456789ABCDEF,
	})
	b = AppendInput(b, []byte(`"Alice"`))
	want := "00000000000000500a18000000000000002a0196f1c2a3b4c5d6e7f8091a2b3c4d5e1226696e765f3167644a4274645645634d393432626a63446d623163316b686f614a65313148627a1801280148ef9bafcdf8acd19101040000000000000b72090a0722416c69636522"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("request body\n got %s\nwant %s", got, want)
	}
	resp, _ := hex.DecodeString("040100000000001272100a0e2248656c6c6f20416c69636521220003000000000000")
	fs, n := Split(resp, nil)
	if n != len(resp) || len(fs) != 2 || fs[0].Type != TypeOutput || fs[1].Type != TypeEnd {
		t.Fatalf("split: %d bytes, %+v", n, fs)
	}
	r, err := DecodeOutput(fs[0].Payload)
	if err != nil || r.Failed || !bytes.Equal(r.Value, []byte(`"Hello Alice!"`)) {
		t.Fatalf("output: %+v, %v", r, err)
	}
	k, err := KnownEntries(AppendStart(nil, Start{KnownEntries: 2001})[HeaderSize:])
	if err != nil || k != 2001 {
		t.Fatalf("known entries: %d, %v", k, err)
	}
}

// TestPartialFrames checks that Split leaves an incomplete frame alone.
func TestPartialFrames(t *testing.T) {
	b := AppendSignal(nil, 17, []byte(`"done"`))
	for i := range len(b) {
		fs, n := Split(b[:i], nil)
		if n != 0 || len(fs) != 0 {
			t.Fatalf("prefix of %d bytes: %d frames, %d bytes", i, len(fs), n)
		}
	}
	fs, n := Split(b, nil)
	if n != len(b) || len(fs) != 1 || fs[0].Type != TypeSignalNotifier {
		t.Fatalf("whole frame: %d bytes, %+v", n, fs)
	}
	id, r, err := DecodeProposeRun(fs[0].Payload[:0])
	if err != nil || id != 0 || r.Failed {
		t.Fatalf("empty proposal: %d %+v %v", id, r, err)
	}
}
