// Package wirecheck cross-checks package wire against the reference protobuf
// implementation, google.golang.org/protobuf. It is a separate module so that
// neither that dependency nor protocompile enters the SDK's go.mod.
//
// Its tests compile the upstream protocol.proto and legacy.proto (copied
// verbatim in testdata/) at test time with protocompile, build messages with
// dynamicpb, and check both directions for every message type: bytes from
// proto.Marshal decode with package wire to the same values, and bytes from
// package wire unmarshal with proto.Unmarshal to the same message and equal
// the reference encoding in ascending field order.
//
// It also owns the golden files of package wire (wire/testdata/*.hex): run
//
//	go test -run TestGolden -golden
//
// to rewrite them from the protobuf text fixtures in golden_test.go.
package wirecheck
