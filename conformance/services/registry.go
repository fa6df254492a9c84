package services

import (
	"fmt"
	"slices"
	"strings"

	restate "github.com/qcodr/restate-sdk-go"
)

// all lists every service of the contract, in the order of CONTRACT.md.
var all = []restate.ServiceDefinition{
	Counter,
	ListObject,
	MapObject,
	AwakeableHolder,
	CancelTestRunner,
	CancelTestBlockingService,
	KillTestRunner,
	KillTestSingleton,
	Failing,
	NonDeterministic,
	Proxy,
	TestUtilsService,
	BlockAndWaitWorkflow,
	VirtualObjectCommandInterpreter,
	ObjectInterpreterL0,
	ObjectInterpreterL1,
	ObjectInterpreterL2,
	ServiceInterpreterHelper,
}

// Names returns the names of every service, in the order of the contract.
func Names() []string {
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name()
	}
	return names
}

// Register returns the services named in names, in the order of the
// contract and without duplicates. No names, or the single name "*", selects
// every service. An unknown name is an error naming it and the known ones.
func Register(names []string) ([]restate.ServiceDefinition, error) {
	if len(names) == 0 || (len(names) == 1 && names[0] == "*") {
		return slices.Clone(all), nil
	}
	want := map[string]bool{}
	var unknown []string
	for _, n := range names {
		if !slices.Contains(Names(), n) {
			unknown = append(unknown, n)
			continue
		}
		want[n] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown services %s (known: %s)", strings.Join(unknown, ", "), strings.Join(Names(), ", "))
	}
	var out []restate.ServiceDefinition
	for _, s := range all {
		if want[s.Name()] {
			out = append(out, s)
		}
	}
	return out, nil
}
