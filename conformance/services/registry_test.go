package services

import (
	"slices"
	"strings"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
)

func names(defs []restate.ServiceDefinition) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.Name()
	}
	return out
}

func TestRegisterAll(t *testing.T) {
	want := []string{
		"Counter", "ListObject", "MapObject", "AwakeableHolder", "CancelTestRunner",
		"CancelTestBlockingService", "KillTestRunner", "KillTestSingleton", "Failing",
		"NonDeterministic", "Proxy", "TestUtilsService", "BlockAndWaitWorkflow",
		"VirtualObjectCommandInterpreter", "ObjectInterpreterL0", "ObjectInterpreterL1",
		"ObjectInterpreterL2", "ServiceInterpreterHelper",
	}
	for _, in := range [][]string{nil, {}, {"*"}} {
		defs, err := Register(in)
		if err != nil {
			t.Fatalf("Register(%q): %v", in, err)
		}
		if got := names(defs); !slices.Equal(got, want) {
			t.Errorf("Register(%q) = %v, want %v", in, got, want)
		}
	}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestRegisterSelection(t *testing.T) {
	defs, err := Register([]string{"Proxy", "Counter", "Proxy"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(defs), []string{"Counter", "Proxy"}; !slices.Equal(got, want) {
		t.Errorf("names = %v, want %v (contract order, no duplicates)", got, want)
	}
}

func TestRegisterUnknown(t *testing.T) {
	for _, in := range [][]string{{"Counter", "Nope"}, {"counter"}, {"*", "Counter"}, {"UpgradeTest"}} {
		_, err := Register(in)
		if err == nil {
			t.Errorf("Register(%q) succeeded, want an error", in)
			continue
		}
		if !strings.Contains(err.Error(), "unknown services") {
			t.Errorf("Register(%q) error %q does not say the services are unknown", in, err)
		}
	}
}

func TestByteArrayJSON(t *testing.T) {
	b, err := ByteArray{0, 1, 255}.MarshalJSON()
	if err != nil || string(b) != "[0,1,255]" {
		t.Fatalf("MarshalJSON = %s, %v; want [0,1,255]", b, err)
	}
	var got ByteArray
	if err := got.UnmarshalJSON([]byte("[34,80,34]")); err != nil || string(got) != `"P"` {
		t.Fatalf("UnmarshalJSON = %q, %v", got, err)
	}
	if err := got.UnmarshalJSON([]byte("[256]")); err == nil {
		t.Error("UnmarshalJSON([256]) succeeded, want an error")
	}
	if err := got.UnmarshalJSON([]byte("null")); err != nil || len(got) != 0 {
		t.Errorf("UnmarshalJSON(null) = %v, %v; want empty", got, err)
	}
}
