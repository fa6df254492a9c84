package wire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/qcodr/restate-sdk-go/wire"
)

// The response body of PROTOCOL.md §12: the handler's output, then the end.
func ExampleAppendFrame() {
	var body []byte
	body = wire.AppendFrame(body, &wire.OutputCommand{Result: wire.ValueResult([]byte(`"Hello Alice!"`))}, 0)
	body = wire.AppendFrame(body, &wire.EndMessage{}, 0)
	fmt.Println(hex.EncodeToString(body))
	// Output:
	// 040100000000001272100a0e2248656c6c6f20416c69636521220003000000000000
}

// A Decoder takes bytes as they arrive, in chunks of any size, and returns
// each frame once it is complete.
func ExampleDecoder() {
	body, _ := hex.DecodeString("00000000000000500a18000000000000002a0196f1c2a3b4c5d6e7f8091a2b3c4d5e1226696e765f3167644a4274645645634d393432626a63446d623163316b686f614a65313148627a1801280148ef9bafcdf8acd19101040000000000000b72090a0722416c69636522")
	d := wire.NewDecoder(0)
	for _, chunk := range [][]byte{body[:50], body[50:]} {
		d.Write(chunk)
		for {
			f, ok, err := d.Next()
			if err != nil {
				fmt.Println(err)
				return
			}
			if !ok {
				break
			}
			m, err := f.Decode()
			if err != nil {
				fmt.Println(err)
				return
			}
			switch m := m.(type) {
			case *wire.StartMessage:
				fmt.Println(f.Header.Type, m.DebugID, "known entries:", m.KnownEntries)
			case *wire.InputCommand:
				fmt.Printf("%v %s\n", f.Header.Type, m.Value)
			}
		}
	}
	fmt.Println("complete:", d.Finish() == nil)
	// Output:
	// StartMessage inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz known entries: 1
	// InputCommandMessage "Alice"
	// complete: true
}

// A Reader pulls frames from an io.Reader and tells a clean end from a
// truncated frame.
func ExampleReader() {
	stream := wire.AppendFrame(nil, &wire.SleepCommand{WakeUpTime: 1735689600000, ResultCompletionID: 1}, 0)
	stream = wire.AppendFrame(stream, &wire.Notification{
		MessageType: wire.TypeSleepCompletion, ID: wire.CompletionID(1), Result: wire.VoidResult(),
	}, 0)
	r := wire.NewReader(bytes.NewReader(stream[:len(stream)-1]), 0)
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			fmt.Println("truncated:", errors.Is(err, wire.ErrTruncated), errors.Is(err, io.ErrUnexpectedEOF))
			break
		}
		fmt.Println(f.Header.Type, f.Header.Length)
	}
	// Output:
	// SleepCommandMessage 9
	// wire: SleepCompletionNotificationMessage: stream ends after 11 of 12 frame bytes at offset 17
	// truncated: true true
}

// Decode returns a *DecodeError that names the message, the field and the
// offset of malformed input.
func ExampleDecode() {
	_, err := wire.Decode(wire.TypeStart, []byte{0x18, 0x01, 0x22, 0xa8, 0x46})
	var de *wire.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Message, de.Field, de.Offset, errors.Is(err, wire.ErrTruncated))
	}
	fmt.Println(err)
	// Output:
	// StartMessage 4 2 true
	// wire: StartMessage field 4: length 9000 overruns payload at offset 2
}
