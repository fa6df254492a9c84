// Package services implements the Restate SDK conformance test-services
// (shared/conformance/CONTRACT.md, and the contracts of restatedev/e2e,
// module sdk-tests) with the public API of package restate only, the way a
// user of the SDK writes services.
//
// Every service of the contract is here, one file each, including the
// verification interpreters ObjectInterpreterL0, ObjectInterpreterL1 and
// ObjectInterpreterL2 and their ServiceInterpreterHelper. UpgradeTest is
// left out on purpose: it only exists in the e2e module (it reads
// E2E_UPGRADETEST_VERSION and is deployed twice by the upgrade scenarios),
// which the sdk-tests conformance suite does not run.
//
// [Register] returns the definitions of the services named in the SERVICES
// environment variable; package
// github.com/qcodr/restate-sdk-go/conformance/cmd/test-services serves them.
package services
