// Package replay is the journal and replay state machine of one invocation
// attempt of the Restate service protocol (V5–V7).
//
// A [Machine] does no I/O, starts no goroutines, reads no clock and no global
// randomness: everything it decides is a function of the messages it was
// fed and the calls made on it. The transport feeds it the request body
// ([Machine.FeedBytes], [Machine.CloseInput]) and writes what
// [Machine.TakeOutput] returns; the handler side issues commands
// ([Machine.Input], [Machine.GetState], [Machine.Run], [Machine.Call], …)
// and waits on [Handle]s combined into a [Future] with [Machine.Await],
// which answers ready, need input, execute a run, or suspend.
//
// While the handler re-issues commands already in the journal the machine
// is replaying ([Machine.Replaying]): each command is compared with the
// journaled one, and a difference fails the attempt with code 570 and a
// message naming the journal index and both commands. Notifications are
// applied one at a time, in journal order, only as far as an await needs
// them, so races resolve the same way on every replay.
//
// Errors that end the attempt are [*Error] values (written as
// ErrorMessage) or [ErrSuspended]; once closed, every method returns the
// same error.
package replay
