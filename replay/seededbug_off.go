//go:build !restate_seeded_bug

package replay

// seededBug is false in every normal build; see seededbug_on.go.
const seededBug = false
