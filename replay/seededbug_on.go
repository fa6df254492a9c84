//go:build restate_seeded_bug

package replay

// seededBug switches on a deliberate engine bug for the tests of the
// property harness (go test -tags restate_seeded_bug ./props): when two
// notifications are queued, the engine applies the second one first, out
// of journal order. Never build a release with this tag.
const seededBug = true
