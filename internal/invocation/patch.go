package invocation

import "github.com/qcodr/restate-sdk-go/replay"

// Patch decides a patch point of the handler: see [replay.Machine.Patch].
func (inv *Invocation) Patch(id string, record bool) (bool, error) {
	var took bool
	err := inv.Do(func(m *replay.Machine) error {
		var err error
		took, err = m.Patch(id, record)
		return err
	})
	return took, err
}
