package wire_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

// scanSeeds are notification and run command payloads: the layouts
// encoders write and variations the fast paths must leave to the general
// decoder.
func scanSeeds() [][]byte {
	var seeds [][]byte
	notifications := []wire.Notification{
		{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult([]byte("result"))},
		{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(300), Result: wire.ValueResult([]byte{})},
		{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(0), Result: wire.ValueResult(bytes.Repeat([]byte("x"), 200))},
		{MessageType: wire.TypeSleepCompletion, ID: wire.CompletionID(7), Result: wire.VoidResult()},
		{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(wire.SignalCancel), Result: wire.VoidResult()},
		{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(17), Result: wire.ValueResult([]byte("v"))},
		{MessageType: wire.TypeSignalNotification, ID: wire.NamedSignalID("approved"), Result: wire.ValueResult([]byte("yes"))},
		{MessageType: wire.TypeCallCompletion, ID: wire.CompletionID(2), Result: wire.FailureResult(500, "boom")},
		{MessageType: wire.TypeCallInvocationIDCompletion, ID: wire.CompletionID(3), Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: "inv_1"}},
		{MessageType: wire.TypeGetLazyStateKeysCompletion, ID: wire.CompletionID(4), Result: wire.Result{Kind: wire.ResultStateKeys, StateKeys: [][]byte{[]byte("a")}}},
	}
	for i := range notifications {
		seeds = append(seeds, notifications[i].AppendPayload(nil))
	}
	runs := []wire.RunCommand{{ResultCompletionID: 1, Name: "step"}, {ResultCompletionID: 1 << 20}, {Name: "x"}, {ResultCompletionID: 9, Name: string(bytes.Repeat([]byte("n"), 300))}}
	for i := range runs {
		seeds = append(seeds, runs[i].AppendPayload(nil))
	}
	seeds = append(seeds,
		[]byte{0x08, 0x01, 0x2a, 0x03, 0x0a, 0x01, 'a', 0x10, 0x02},        // a second id after the result
		[]byte{0x2a, 0x03, 0x0a, 0x01, 'a', 0x08, 0x01},                    // result first
		[]byte{0x08, 0x01, 0x2a, 0x04, 0x0a, 0x01, 'a', 0x18},              // unknown field in Value, truncated
		[]byte{0x08, 0x01, 0x2a, 0x05, 0x0a, 0x01, 'a', 0x18, 0x01},        // unknown field in Value
		[]byte{0x08, 0x01, 0x22, 0x02, 0x08, 0x01},                         // non-empty Void
		[]byte{0x08, 0x80, 0x80, 0x80, 0x80, 0x10, 0x22, 0x00},             // id over uint32
		[]byte{0x08, 0x01, 0x2a, 0x03, 0x0a, 0x05, 'a'},                    // content overruns
		[]byte{0x58, 0x01, 0x62, 0x04, 's', 't', 'e', 'p', 0x58, 0x02},     // run: id repeated
		[]byte{0x62, 0x01, 'a', 0x58, 0x03},                                // run: name first
		[]byte{0x58, 0x01, 0x62, 0x09, 's'},                                // run: name overruns
		[]byte{0x58, 0x80, 0x80, 0x80, 0x80, 0x10},                         // run: id over uint32
		[]byte{0x58, 0x01, 0x6a, 0x00},                                     // run: unknown field
		[]byte{0x58, 0x01, 0x62, 0x01, 'a', 0x0b, 0x0c},                    // run: group, unterminated
		[]byte{0x08, 0x01, 0x2a, 0x02, 0x0a, 0x00, 0x2a, 0x02, 0x0a, 0x00}, // value repeated
	)
	return seeds
}

// checkScan compares the scanners with the general decoders on p.
func checkScan(t *testing.T, p []byte) {
	t.Helper()
	n := wire.Notification{MessageType: wire.TypeRunCompletion}
	wantErr := n.DecodePayload(p)
	id, kind, value, err := wire.ScanNotification(wire.TypeRunCompletion, p)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("ScanNotification(%x): error %v, DecodePayload: %v", p, err, wantErr)
	}
	if err == nil {
		var wantValue []byte
		if n.Result.Kind == wire.ResultValue {
			wantValue = n.Result.Value
		}
		if id != n.ID || kind != n.Result.Kind || !bytes.Equal(value, wantValue) || (value == nil) != (wantValue == nil) {
			t.Fatalf("ScanNotification(%x) = %v %v %q, DecodePayload: %v %v %q", p, id, kind, value, n.ID, n.Result.Kind, wantValue)
		}
		if cap(value) != len(value) && len(value) > 0 {
			t.Fatalf("ScanNotification(%x): value capacity %d is not clipped to its length %d", p, cap(value), len(value))
		}
	}

	var run wire.RunCommand
	wantErr = run.DecodePayload(p)
	c, name, err := wire.ScanRunCommand(p)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("ScanRunCommand(%x): error %v, DecodePayload: %v", p, err, wantErr)
	}
	if err == nil && (c != run.ResultCompletionID || string(name) != run.Name) {
		t.Fatalf("ScanRunCommand(%x) = %d %q, DecodePayload: %d %q", p, c, name, run.ResultCompletionID, run.Name)
	}
}

func TestScanMatchesDecode(t *testing.T) {
	for _, seed := range scanSeeds() {
		// Every prefix and every single-byte change of each seed.
		for i := 0; i <= len(seed); i++ {
			checkScan(t, seed[:i])
		}
		for i := range seed {
			for _, b := range []byte{0x00, 0x01, 0x02, 0x08, 0x0a, 0x10, 0x22, 0x2a, 0x58, 0x62, 0x7f, 0x80, 0xff, seed[i] + 1, seed[i] - 1} {
				p := bytes.Clone(seed)
				p[i] = b
				checkScan(t, p)
			}
		}
	}
}

func TestScanAllocations(t *testing.T) {
	notif := (&wire.Notification{ID: wire.CompletionID(5), Result: wire.ValueResult([]byte("result"))}).AppendPayload(nil)
	void := (&wire.Notification{ID: wire.SignalID(1), Result: wire.VoidResult()}).AppendPayload(nil)
	run := (&wire.RunCommand{ResultCompletionID: 5, Name: "step"}).AppendPayload(nil)
	if a := testing.AllocsPerRun(100, func() {
		if _, _, _, err := wire.ScanNotification(wire.TypeRunCompletion, notif); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := wire.ScanNotification(wire.TypeSignalNotification, void); err != nil {
			t.Fatal(err)
		}
		if _, _, err := wire.ScanRunCommand(run); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("scanning allocated %.1f times, want 0", a)
	}
}

func FuzzScan(f *testing.F) {
	for _, seed := range scanSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p []byte) { checkScan(t, p) })
}
